// Embedding on another site: the script call (Tessera.embed) for an image
// service or a manifest, and the iframe, on a page of another origin.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync } from 'node:fs';
import * as h from './harness.mjs';

let dir, server, browser, host, hostBody = '';

before(async () => {
  dir = h.tempDir('embed');
  const root = path.join(dir, 'root');
  h.makePyramid(path.join(root, 'plate.tif'), h.pattern(1600, 1000, 0));
  for (const n of [1, 2]) h.makePyramid(path.join(root, `folio/p${n}.tif`), h.pattern(400, 600, n));
  server = await h.startServer(root);
  // The other site: another origin on this machine (Chromium refuses pages
  // of public addresses the loopback ones, whatever CORS says).
  host = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><title>Museum</title><link rel="icon" href="data:,"></head>
<body><h1>A museum page</h1><input id="note" aria-label="Note">${hostBody}</body></html>`);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  host?.close();
  rmSync(dir, { recursive: true, force: true });
});

// A page of another site showing `body`.
async function hostPage(body) {
  hostBody = body;
  const page = await browser.newPage();
  await page.goto(hostUrl());
  return page;
}

const hostUrl = () => `http://localhost:${host.address().port}/`;

describe('embedding', () => {
  test('Tessera.embed shows an image from its info.json, keys stay inside it', async () => {
    const info = `${server.url}iiif/3/plate.tif/info.json`;
    const page = await hostPage(`<div id="scan" style="width:700px;height:450px"></div>
<script src="${server.url}viewer/embed.js"></script>
<script>Tessera.embed('#scan', '${info}', { title: 'Plate' }).then((v) => (window.embedded = v));</script>`);
    await page.waitForFunction(() => window.embedded?.viewer.world.getItemCount() > 0);
    const stats = await h.waitForTiles(page, 'window.embedded.viewer');
    assert.ok(stats.tilesLoaded > 0);
    assert.equal(stats.tilesFailed, 0);
    assert.equal(await page.textContent('#scan .tv-title'), 'Plate');
    const zoom = () => page.evaluate(() => window.embedded.viewer.viewport.getZoom(false));
    const start = await zoom();

    // Keys pressed elsewhere on the host page are the host's.
    await page.keyboard.press('+');
    assert.equal(await zoom(), start);
    await page.focus('#scan button[aria-label="Home"]');
    await page.keyboard.press('+');
    assert.ok((await zoom()) > start * 1.4);
    await h.waitForTiles(page, 'window.embedded.viewer');
    // The host page's URL is left alone.
    assert.equal(page.url(), hostUrl());
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('Tessera.embed opens a manifest as a book', async () => {
    const manifest = `${server.url}iiif/manifest/folio`;
    const page = await hostPage(`<div id="book" style="width:700px;height:500px"></div>
<script src="${server.url}viewer/embed.js"></script>
<script>Tessera.embed('#book', { manifest: '${manifest}' }).then((v) => (window.embedded = v));</script>`);
    await page.waitForFunction(() => window.embedded?.viewer.world.getItemCount() > 0);
    await h.waitForTiles(page, 'window.embedded.viewer');
    assert.equal(await page.textContent('#book .tv-page-status'), 'Page 1 of 2');
    await page.click('#book button[aria-label="Next page"]');
    await page.waitForFunction(() => String(window.embedded.viewer.world.getItemAt(0)?.source.id).endsWith('/p2.tif'));
    assert.equal((await h.waitForTiles(page, 'window.embedded.viewer')).tilesFailed, 0);
    assert.equal(await page.textContent('#book .tv-page-status'), 'Page 2 of 2');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the viewer page works in an iframe', async () => {
    const page = await hostPage(
      `<iframe src="${server.url}view/plate.tif" title="Plate" width="800" height="500" allow="fullscreen"></iframe>`,
    );
    const frame = page.frames().find((f) => f.url().startsWith(server.url)) ||
      (await (await page.waitForSelector('iframe')).contentFrame());
    await frame.waitForFunction(() => window.tessera?.viewer?.world.getItemCount() > 0);
    const stats = await h.waitForTiles(frame);
    assert.equal(stats.tilesFailed, 0);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
