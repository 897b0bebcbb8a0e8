// "/": the gallery lists the images under the root with their size and
// format, folders as collections and numbered files as sequences; it pages,
// and its search box filters by name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import * as h from './harness.mjs';

let dir, server, browser;

before(async () => {
  dir = h.tempDir('gallery');
  const root = path.join(dir, 'root');
  h.makePyramid(path.join(root, 'alpha.tif'), h.pattern(640, 480, 0));
  h.makePyramid(path.join(root, 'beta.tif'), h.pattern(500, 700, 1));
  h.makePyramid(path.join(root, 'maps/atlas.tif'), h.pattern(800, 600, 2));
  h.makePyramid(path.join(root, 'maps/old/chart.tif'), h.pattern(300, 300, 3));
  for (const n of [1, 2, 10]) h.makePyramid(path.join(root, `scans/folio_${n}.tif`), h.pattern(200, 300, n));
  for (const n of [1, 2]) h.makePyramid(path.join(root, `book/page_00${n}.tif`), h.pattern(200, 300, n));
  writeFileSync(path.join(root, 'broken.tif'), 'not a TIFF at all');
  server = await h.startServer(root);
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function open(url = '') {
  const page = await browser.newPage();
  await page.goto(server.url + url);
  await settled(page);
  return page;
}

const settled = (page) => page.waitForSelector('ul.tg-grid[aria-busy="false"]', { state: 'attached' });

const cards = (page) =>
  page.$$eval('.tg-card', (items) =>
    items.map((li) => ({
      type: li.dataset.type,
      id: li.dataset.id,
      name: li.querySelector('.tg-name').textContent,
      meta: li.querySelector('.tg-meta').textContent,
    })),
  );

async function typeSearch(page, text) {
  await page.getByLabel('Search images by name').fill(text);
  await page.waitForFunction((q) => new URLSearchParams(location.search).get('q') === (q || null), text);
  await settled(page);
}

describe('the gallery', () => {
  test('lists folders, then images with their pixel size and format', async () => {
    const page = await open();
    const shown = await cards(page);
    assert.deepEqual(
      shown.map((c) => [c.type, c.id]),
      [
        ['folder', 'book'],
        ['folder', 'maps'],
        ['folder', 'scans'],
        ['image', 'alpha.tif'],
        ['image', 'beta.tif'],
        ['image', 'broken.tif'],
      ],
    );
    assert.equal(shown[3].meta, '640 × 480 px · TIFF');
    assert.equal(shown[4].meta, '500 × 700 px · TIFF');
    assert.match(shown[5].meta, /^Cannot be read: /);
    assert.equal(await page.textContent('.tg-count'), '1–6 of 6');
    // Every thumbnail came through IIIF.
    await page.waitForFunction(() => [...document.querySelectorAll('.tg-card img')].every((i) => i.complete));
    const thumbs = await page.$$eval('.tg-card img', (images) => images.map((i) => [i.naturalWidth, i.src]));
    assert.equal(thumbs.length, 2);
    for (const [width, src] of thumbs) {
      assert.ok(width > 0, `${src} did not load`);
      assert.match(src, /\/iiif\/3\/(alpha|beta)\.tif\/full\/!240,240\/0\/default\.jpg$/);
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the search box filters by name, below the current folder, ignoring case', async () => {
    const page = await open();
    await typeSearch(page, 'atl');
    let shown = await cards(page);
    assert.deepEqual(shown.map((c) => c.id), ['maps/atlas.tif']);
    assert.equal(await page.textContent('.tg-card .tg-where'), 'maps');
    assert.equal(await page.textContent('.tg-count'), '1–1 of 1 matching “atl”');

    await typeSearch(page, 'FOLIO');
    shown = await cards(page);
    assert.deepEqual(shown.map((c) => c.id), ['scans/folio_1.tif', 'scans/folio_2.tif', 'scans/folio_10.tif']);

    await typeSearch(page, 'nothing-like-this');
    assert.deepEqual(await cards(page), []);
    assert.match(await page.textContent('.tg-count'), /^Nothing/);

    await typeSearch(page, '');
    assert.equal((await cards(page)).length, 6);
    await page.close();
  });

  test('folders open as collections, with a trail back', async () => {
    const page = await open();
    await page.click('.tg-card[data-id="maps"] a.tg-open');
    await page.waitForURL(/\?folder=maps$/);
    await settled(page);
    assert.deepEqual((await cards(page)).map((c) => [c.type, c.id]), [
      ['folder', 'maps/old'],
      ['image', 'maps/atlas.tif'],
    ]);
    assert.deepEqual(await page.$$eval('.tg-crumbs a', (a) => a.map((x) => x.textContent)), ['All images', 'maps']);
    assert.equal(await page.getAttribute('.tg-card[data-id="maps/atlas.tif"] a.tg-open', 'href'), `${server.url}view/maps/atlas.tif`);

    await page.goBack();
    await settled(page);
    assert.equal((await cards(page)).length, 6);
    await page.close();
  });

  test('numbered files show as a sequence, and a folder opens as a book', async () => {
    const page = await open('?folder=scans');
    const shown = await cards(page);
    assert.deepEqual(shown[0], { type: 'sequence', id: 'scans/folio', name: 'folio…', meta: 'Sequence of 3 pages' });
    assert.equal(await page.getAttribute('.tg-card[data-id="scans/folio"] a', 'href'), `${server.url}book/scans/folio`);
    await page.close();

    const root = await open();
    assert.equal(await root.getAttribute('.tg-card[data-id="book"] a.tg-book', 'href'), `${server.url}book/book`);
    await root.close();
  });

  test('pages through long listings', async () => {
    const page = await open('?limit=2');
    assert.deepEqual((await cards(page)).map((c) => c.id), ['book', 'maps']);
    assert.equal(await page.textContent('.tg-page-status'), 'Page 1 of 3');
    assert.equal(await page.isDisabled('.tg-pages button:first-child'), true);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.waitForURL(/page=2/);
    await settled(page);
    assert.deepEqual((await cards(page)).map((c) => c.id), ['scans', 'alpha.tif']);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.waitForURL(/page=3/);
    await settled(page);
    assert.deepEqual((await cards(page)).map((c) => c.id), ['beta.tif', 'broken.tif']);
    assert.equal(await page.isDisabled('.tg-pages button:last-child'), true);
    await page.close();
  });

  test('two picked images open in the compare page', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Compare alpha.tif' }).click();
    await page.getByRole('button', { name: 'Compare beta.tif' }).click();
    assert.equal(await page.getAttribute('.tg-compare a', 'href'), `${server.url}compare/alpha.tif/beta.tif`);
    await page.click('.tg-compare a');
    await page.waitForURL(/compare\/alpha\.tif\/beta\.tif$/);
    assert.equal(await page.textContent('.tv-title'), 'alpha.tif / beta.tif');
    await page.close();
  });

  test('is usable from the keyboard: labelled search, Tab order', async () => {
    const page = await open();
    const order = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement.getAttribute('aria-label') || document.activeElement.id || document.activeElement.textContent.trim()));
    }
    assert.deepEqual(order, ['Tessera', 'All images', 'tg-q', 'book']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('beta');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'beta');
    await settled(page);
    assert.deepEqual((await cards(page)).map((c) => c.id), ['beta.tif']);
    await page.close();
  });

  test('the API pages, bounds its page size and refuses bad input', async () => {
    const get = (query) => fetch(`${server.url}api/images?${query}`);
    let body = await (await get('offset=3&limit=2')).json();
    assert.equal(body.total, 6);
    assert.deepEqual(body.items.map((i) => [i.type, i.id, i.width, i.height, i.format]), [
      ['image', 'alpha.tif', 640, 480, 'tiff'],
      ['image', 'beta.tif', 500, 700, 'tiff'],
    ]);
    body = await (await get('limit=100000')).json();
    assert.equal(body.limit, 200);
    body = await (await get('offset=50')).json();
    assert.deepEqual(body.items, []);
    body = await (await get('q=chart&folder=maps')).json();
    assert.deepEqual(body.items.map((i) => i.id), ['maps/old/chart.tif']);
    assert.equal((await get('offset=-1')).status, 400);
    assert.equal((await get('folder=../etc')).status, 400);
    assert.equal((await get('folder=nowhere')).status, 404);
  });
});
