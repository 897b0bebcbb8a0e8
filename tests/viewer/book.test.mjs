// /book/{sequence}: a folder of pages, or numbered files, opens as a book
// with a strip of thumbnails; turning a page loads the next image; the page
// is in the URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync } from 'node:fs';
import * as h from './harness.mjs';

let dir, server, browser;

before(async () => {
  dir = h.tempDir('book');
  const root = path.join(dir, 'root');
  for (const n of [1, 2, 3]) h.makePyramid(path.join(root, `book/page_00${n}.tif`), h.pattern(600, 900, n - 1));
  for (const n of [1, 2, 10]) h.makePyramid(path.join(root, `loose/scan-${n}.tif`), h.pattern(300, 400, n));
  h.makePyramid(path.join(root, 'loose/other.tif'), h.pattern(300, 400, 0));
  server = await h.startServer(root);
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function open(url) {
  const page = await browser.newPage();
  await page.goto(server.url + url);
  await page.waitForFunction(() => window.tessera?.viewer?.world.getItemCount() > 0);
  await h.waitForTiles(page);
  return page;
}

// The image the viewer shows, once every tile of it is drawn.
async function shownPage(page, name) {
  await page.waitForFunction(
    (n) => String(window.tessera.viewer.world.getItemAt(0)?.source.id || '').endsWith(`/${n}`),
    name,
  );
  const stats = await h.waitForTiles(page);
  assert.equal(stats.tilesFailed, 0);
  return {
    status: await page.textContent('.tv-page-status'),
    hash: await page.evaluate(() => location.hash),
    current: await page.getAttribute('.tv-thumb[aria-current="page"]', 'aria-label'),
  };
}

describe('books', () => {
  test('a folder opens at its first page, with a strip of every page', async () => {
    const page = await open('book/book');
    assert.deepEqual(await shownPage(page, 'book/page_001.tif'), {
      status: 'Page 1 of 3',
      hash: '#page=1',
      current: 'Page 1: page_001.tif',
    });
    assert.equal(await page.title(), 'book · Tessera');
    assert.equal(await page.isDisabled('button[aria-label="Previous page"]'), true);
    await page.waitForFunction(() => [...document.querySelectorAll('.tv-thumb img')].every((i) => i.complete && i.naturalWidth > 0));
    assert.equal(await page.locator('.tv-thumb').count(), 3);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('turning a page loads the next image: keys, buttons and thumbnails', async () => {
    const page = await open('book/book');
    await shownPage(page, 'book/page_001.tif');
    await page.keyboard.press('n');
    const one = (await h.shoot(page, '.tv-osd', dir)).image;

    await page.keyboard.press('PageDown');
    assert.deepEqual(await shownPage(page, 'book/page_002.tif'), {
      status: 'Page 2 of 3',
      hash: '#page=2',
      current: 'Page 2: page_002.tif',
    });
    const two = (await h.shoot(page, '.tv-osd', dir)).image;
    const change = h.meanAbsDiff(one, two);
    assert.ok(change > 10, `the page turn changed the pixels by ${change.toFixed(2)} only`);

    await page.click('button[aria-label="Next page"]');
    assert.equal((await shownPage(page, 'book/page_003.tif')).status, 'Page 3 of 3');
    assert.equal(await page.isDisabled('button[aria-label="Next page"]'), true);
    await page.keyboard.press('PageDown'); // past the end: stays
    assert.equal((await shownPage(page, 'book/page_003.tif')).status, 'Page 3 of 3');

    await page.keyboard.press('[');
    assert.equal((await shownPage(page, 'book/page_002.tif')).status, 'Page 2 of 3');
    await page.click('.tv-thumb[aria-label="Page 1: page_001.tif"]');
    assert.equal((await shownPage(page, 'book/page_001.tif')).status, 'Page 1 of 3');
    await page.keyboard.press('End');
    assert.equal((await shownPage(page, 'book/page_003.tif')).status, 'Page 3 of 3');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('a deep link opens its page; changing the hash turns to it', async () => {
    const page = await open('book/book#page=3');
    assert.equal((await shownPage(page, 'book/page_003.tif')).current, 'Page 3: page_003.tif');
    await page.evaluate(() => (location.hash = '#page=2'));
    assert.equal((await shownPage(page, 'book/page_002.tif')).status, 'Page 2 of 3');
    await page.close();
  });

  test('numbered files of a folder form a book, in numeric order', async () => {
    const page = await open('book/loose/scan');
    await shownPage(page, 'loose/scan-1.tif');
    const labels = await page.$$eval('.tv-thumb', (b) => b.map((x) => x.getAttribute('aria-label')));
    assert.deepEqual(labels, ['Page 1: scan-1.tif', 'Page 2: scan-2.tif', 'Page 3: scan-10.tif']);
    await page.close();
  });

  test('opens any IIIF manifest', async () => {
    const manifest = `${server.url}iiif/manifest/book`;
    const page = await open(`book?manifest=${encodeURIComponent(manifest)}`);
    assert.equal((await shownPage(page, 'book/page_001.tif')).status, 'Page 1 of 3');
    await page.keyboard.press(']');
    assert.equal((await shownPage(page, 'book/page_002.tif')).status, 'Page 2 of 3');
    await page.close();
  });

  test('answers 404 for what is no sequence', async () => {
    assert.equal((await fetch(`${server.url}book/nothing`)).status, 404);
    assert.equal((await fetch(`${server.url}book/loose/nothing`)).status, 404);
    assert.equal((await fetch(`${server.url}book/..%2Fetc`)).status, 400);
  });
});
