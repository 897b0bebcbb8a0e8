// /iiif/manifest/{id}: IIIF Presentation 3.0 manifests for an image and for
// a sequence, checked against the specification's shape and against the
// image services they point to.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync } from 'node:fs';
import * as h from './harness.mjs';

let dir, server;

before(async () => {
  dir = h.tempDir('manifest');
  const root = path.join(dir, 'root');
  h.makePyramid(path.join(root, 'plate.tif'), h.pattern(1200, 800, 0));
  for (const n of [1, 2, 3]) h.makePyramid(path.join(root, `register/f${n}r.tif`), h.pattern(300 + n, 400, n));
  for (const n of [1, 2]) h.makePyramid(path.join(root, `register/insert_${n}.tif`), h.pattern(200, 200, n));
  server = await h.startServer(root);
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const isUri = (v) => typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v);
const isLanguageMap = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 &&
  Object.values(v).every((list) => Array.isArray(list) && list.every((s) => typeof s === 'string'));
const isPositiveInteger = (v) => Number.isInteger(v) && v > 0;

/** Problems with `m` as a Presentation 3.0 manifest (the spec's MUSTs that apply). */
function presentation3Problems(m) {
  const problems = [];
  const check = (ok, what) => ok || problems.push(what);
  const contexts = [].concat(m['@context']);
  check(contexts.at(-1) === 'http://iiif.io/api/presentation/3/context.json', '@context');
  check(isUri(m.id), 'manifest id');
  check(m.type === 'Manifest', 'manifest type');
  check(isLanguageMap(m.label), 'manifest label');
  for (const entry of m.metadata || []) check(isLanguageMap(entry.label) && isLanguageMap(entry.value), 'metadata entry');
  if (m.requiredStatement) check(isLanguageMap(m.requiredStatement.label) && isLanguageMap(m.requiredStatement.value), 'requiredStatement');
  if (m.rights) check(isUri(m.rights), 'rights');
  for (const t of m.thumbnail || []) check(isUri(t.id) && typeof t.type === 'string', 'thumbnail');
  for (const p of m.homepage || []) check(isUri(p.id) && p.type === 'Text' && isLanguageMap(p.label), 'homepage');
  check(Array.isArray(m.items) && m.items.length > 0, 'manifest items');
  const ids = new Set();
  for (const canvas of m.items || []) {
    check(isUri(canvas.id) && !ids.has(canvas.id), `canvas id ${canvas.id}`);
    ids.add(canvas.id);
    check(canvas.type === 'Canvas', 'canvas type');
    check(isPositiveInteger(canvas.width) && isPositiveInteger(canvas.height), 'canvas width and height');
    if (canvas.label) check(isLanguageMap(canvas.label), 'canvas label');
    check(Array.isArray(canvas.items) && canvas.items.length > 0, 'canvas items');
    for (const page of canvas.items || []) {
      check(isUri(page.id) && page.type === 'AnnotationPage', 'annotation page');
      for (const a of page.items || []) {
        check(isUri(a.id) && a.type === 'Annotation', 'annotation');
        check(a.motivation === 'painting', 'motivation');
        check(a.target === canvas.id || String(a.target).startsWith(`${canvas.id}#`), 'target');
        const body = a.body;
        check(isUri(body?.id) && body.type === 'Image' && typeof body.format === 'string', 'body');
        for (const s of body?.service || []) {
          check(isUri(s.id || s['@id']) && typeof (s.type || s['@type']) === 'string', 'service');
        }
      }
    }
  }
  return problems;
}

async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return { body: await response.json(), type: response.headers.get('content-type') };
}

const painting = (canvas) => canvas.items[0].items[0];

describe('IIIF manifests', () => {
  test('an image: one canvas painted by its image service', async () => {
    const { body: m, type } = await getJson(`${server.url}iiif/manifest/plate.tif`);
    assert.equal(type, 'application/json');
    assert.deepEqual(presentation3Problems(m), []);
    assert.equal(m.id, `${server.url}iiif/manifest/plate.tif`);
    assert.deepEqual(m.label, { none: ['plate.tif'] });
    assert.equal(m.homepage[0].id, `${server.url}view/plate.tif`);
    assert.equal(m.items.length, 1);
    const canvas = m.items[0];
    assert.deepEqual([canvas.width, canvas.height], [1200, 800]);
    const body = painting(canvas).body;
    const service = body.service.find((s) => s.type === 'ImageService3');
    assert.equal(service.id, `${server.url}iiif/3/plate.tif`);
    assert.equal(service.profile, 'level2');
    assert.ok(body.service.some((s) => s['@type'] === 'ImageService2' && s['@id'] === `${server.url}iiif/2/plate.tif`));

    // What it points to is there, and agrees with it.
    const { body: info } = await getJson(`${service.id}/info.json`);
    assert.deepEqual([info.width, info.height], [canvas.width, canvas.height]);
    for (const url of [body.id, m.thumbnail[0].id, canvas.thumbnail[0].id]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('content-type'), 'image/jpeg');
    }
  });

  test('a folder: one canvas per image, in natural order', async () => {
    const { body: m } = await getJson(`${server.url}iiif/manifest/register`);
    assert.deepEqual(presentation3Problems(m), []);
    assert.deepEqual(m.label, { none: ['register'] });
    assert.equal(m.homepage[0].id, `${server.url}book/register`);
    assert.deepEqual(
      m.items.map((c) => [c.label.none[0], c.width]),
      [['f1r.tif', 301], ['f2r.tif', 302], ['f3r.tif', 303], ['insert_1.tif', 200], ['insert_2.tif', 200]],
    );
    assert.deepEqual(m.items.map((c) => c.id), [1, 2, 3, 4, 5].map((n) => `${m.id}/canvas/${n}`));
  });

  test('numbered files: the sequence named by their prefix', async () => {
    const { body: m } = await getJson(`${server.url}iiif/manifest/register/insert`);
    assert.deepEqual(presentation3Problems(m), []);
    assert.deepEqual(m.items.map((c) => painting(c).body.service[0].id), [
      `${server.url}iiif/3/register/insert_1.tif`,
      `${server.url}iiif/3/register/insert_2.tif`,
    ]);
  });

  test('JSON-LD when asked for; 404 and 400 for what is no image or sequence', async () => {
    const { type } = await getJson(`${server.url}iiif/manifest/plate.tif`, { Accept: 'application/ld+json' });
    assert.equal(type, 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"');
    assert.equal((await fetch(`${server.url}iiif/manifest/nothing`)).status, 404);
    assert.equal((await fetch(`${server.url}iiif/manifest/..%2Fplate.tif`)).status, 400);
  });

  test('states the rights, the attribution and the size the server will give', async () => {
    const other = await h.startServer(path.join(dir, 'root'), [
      '--max-cvt', '500',
      '--rights', 'https://creativecommons.org/licenses/by/4.0/',
      '--copyright', 'Photo: the museum',
    ]);
    try {
      const { body: m } = await getJson(`${other.url}iiif/manifest/plate.tif`);
      assert.deepEqual(presentation3Problems(m), []);
      assert.equal(m.rights, 'https://creativecommons.org/licenses/by/4.0/');
      assert.deepEqual(m.requiredStatement.value, { none: ['Photo: the museum'] });
      const body = painting(m.items[0]).body;
      assert.deepEqual([body.width, body.height], [500, 333]);
      assert.deepEqual([m.items[0].width, m.items[0].height], [1200, 800]);
      const response = await fetch(body.id);
      assert.equal(response.status, 200);
      assert.deepEqual(h.imageSize(Buffer.from(await response.arrayBuffer()), dir), [500, 333]);
    } finally {
      await other.stop();
    }
  });
});
