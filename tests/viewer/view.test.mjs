// /view/{id}: the viewer opens with every tile loaded; zoom, pan, rotation,
// fullscreen and the navigator answer the keyboard and the mouse; a fixed
// view's pixels match the source image's region; the zoom indicator, the
// scale bar, the URL and the download link say what the view shows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync } from 'node:fs';
import * as h from './harness.mjs';

const WIDTH = 2600;
const HEIGHT = 1536;
let dir, server, browser, source;

before(async () => {
  dir = h.tempDir('view');
  source = h.pattern(WIDTH, HEIGHT, 0);
  h.makePyramid(path.join(dir, 'root/big.tif'), source);
  // 10 pixels per mm = 254 dpi: one image pixel is 0.1 mm.
  h.makePyramid(path.join(dir, 'root/measured.tif'), h.pattern(1200, 800, 1), ['--xres', '10', '--yres', '10']);
  server = await h.startServer(path.join(dir, 'root'));
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
  return page;
}

const viewport = (page) =>
  page.evaluate(() => {
    const vp = window.tessera.viewer.viewport;
    const c = vp.getCenter(false);
    return { zoom: vp.getZoom(false), x: c.x, y: c.y, rotation: vp.getRotation(false) };
  });

const stageSize = (page) =>
  page.evaluate(() => {
    const r = document.querySelector('.tv-osd').getBoundingClientRect();
    return { width: Math.round(r.width), height: Math.round(r.height) };
  });

// Shows the hash's view and waits until the viewer has settled on it.
async function showHash(page, hash, percent) {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForFunction((p) => document.querySelector('.tv-zoom-value').textContent === p, percent);
  await h.waitForTiles(page);
  assert.equal(await page.textContent('.tv-zoom-value'), percent);
}

describe('the viewer', () => {
  test('opens with every tile loaded and none failed', async () => {
    const page = await open('view/big.tif');
    const stats = await h.waitForTiles(page);
    assert.ok(stats.tilesLoaded > 0, 'no tile loaded');
    assert.equal(stats.tilesFailed, 0);
    assert.deepEqual(page.problems, []);
    assert.equal(await page.title(), 'big.tif · Tessera');
    await page.close();
  });

  test('draws a fixed view as the source image region, at 100% and 50%', async () => {
    const page = await open('view/big.tif');
    await h.waitForTiles(page);
    await page.keyboard.press('n'); // the navigator would cover a corner
    const stage = await stageSize(page);
    // Regions inside the image, so that every screen pixel shows the image.
    for (const [factor, percent, x, y] of [[1, '100%', 300, 200], [2, '50%', 24, 100]]) {
      const region = { x, y, w: stage.width * factor, h: stage.height * factor };
      assert.ok(x + region.w <= WIDTH - 64 * factor && y + region.h <= HEIGHT, 'the window is too large');
      await showHash(page, `#${region.x},${region.y},${region.w},${region.h},0`, percent);
      const shown = await page.evaluate(() => window.tessera.region());
      assert.ok(Math.abs(shown.x - region.x) <= 1 && Math.abs(shown.w - region.w) <= 1, JSON.stringify(shown));

      const { image } = await h.shoot(page, '.tv-osd', dir);
      const expected = factor === 1 ? source : h.reduce(source, factor);
      const at = (v) => Math.round(v / factor);
      const want = h.crop(expected, at(shown.x), at(shown.y), image.width, image.height);
      const diff = h.meanAbsDiff(image, want);
      assert.ok(diff < 6, `mean difference ${diff.toFixed(2)} at ${percent}`);
      // The comparison can fail: the view 64 image pixels off (half the
      // pattern's period) is far away.
      const off = h.crop(expected, at(shown.x + 64), at(shown.y), image.width, image.height);
      const offDiff = h.meanAbsDiff(image, off);
      assert.ok(offDiff > 3 * diff + 5, `a shifted region compares as well (${offDiff} vs ${diff})`);
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the zoom indicator shows the scale as a percentage of full resolution', async () => {
    const page = await open('view/big.tif');
    const stage = await stageSize(page);
    // A region four times the stage's width is shown at 25%.
    await showHash(page, `#0,0,${stage.width * 4},${stage.height * 4},0`, '25%');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await h.waitForTiles(page);
    // + zooms by 1.5: 25% x 2.25 = 56.25%.
    assert.equal(await page.textContent('.tv-zoom-value'), '56%');
    await page.close();
  });

  test('keys zoom, pan, rotate, go home, toggle the navigator and fullscreen', async () => {
    const page = await open('view/big.tif');
    await h.waitForTiles(page);
    const home = await viewport(page);

    await page.keyboard.press('+');
    const zoomed = await viewport(page);
    assert.ok(Math.abs(zoomed.zoom / home.zoom - 1.5) < 1e-6, `zoom ${zoomed.zoom} from ${home.zoom}`);
    await page.keyboard.press('-');
    assert.ok(Math.abs((await viewport(page)).zoom - home.zoom) < 1e-6);

    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await h.waitForTiles(page);
    const before = await viewport(page);
    await page.keyboard.press('ArrowRight');
    const right = await viewport(page);
    assert.ok(right.x > before.x, 'ArrowRight did not pan right');
    await page.keyboard.press('ArrowDown');
    assert.ok((await viewport(page)).y > right.y, 'ArrowDown did not pan down');

    await page.keyboard.press('r');
    assert.equal((await viewport(page)).rotation, 90);
    await h.waitForTiles(page);
    assert.match(await page.evaluate(() => location.hash), /^#-?\d+,-?\d+,\d+,\d+,90$/);
    await page.keyboard.press('Shift+R');
    assert.equal((await viewport(page)).rotation, 0);

    await page.keyboard.press('h');
    const back = await viewport(page);
    assert.ok(Math.abs(back.zoom - home.zoom) < 1e-6 && Math.abs(back.x - home.x) < 1e-6);

    const navigatorShown = () =>
      page.evaluate(() => getComputedStyle(window.tessera.viewer.navigator.element).display !== 'none');
    assert.equal(await navigatorShown(), true);
    await page.keyboard.press('n');
    assert.equal(await navigatorShown(), false);
    assert.equal(await page.getAttribute('button[aria-label="Navigator"]', 'aria-pressed'), 'false');
    await page.keyboard.press('n');
    assert.equal(await navigatorShown(), true);

    await page.keyboard.press('f');
    await page.waitForFunction(() => document.fullscreenElement?.classList.contains('tv'));
    // The button follows the fullscreenchange event, which comes a moment later.
    await page.waitForSelector('button[aria-label="Fullscreen"][aria-pressed="true"]');
    await page.keyboard.press('f');
    await page.waitForFunction(() => document.fullscreenElement === null);
    await page.waitForSelector('button[aria-label="Fullscreen"][aria-pressed="false"]');

    await page.keyboard.press('?');
    assert.equal(await page.isVisible('dialog.tv-help'), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.isVisible('dialog.tv-help'), false);
    await h.waitForTiles(page);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the mouse wheel zooms and a drag pans', async () => {
    const page = await open('view/big.tif');
    await h.waitForTiles(page);
    const box = await page.locator('.tv-osd').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const start = await viewport(page);
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -200);
    await page.waitForFunction((z) => window.tessera.viewer.viewport.getZoom(false) > z * 1.1, start.zoom);
    await h.waitForTiles(page);
    const zoomed = await viewport(page);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 150, cy - 100, { steps: 8 });
    await page.mouse.up();
    await h.waitForTiles(page);
    const dragged = await viewport(page);
    assert.ok(dragged.x > zoomed.x && dragged.y > zoomed.y, 'dragging up-left did not move the view down-right');
    await page.close();
  });

  test('the URL keeps the view: reopening it shows the same region and rotation', async () => {
    const page = await open('view/big.tif#400,300,800,600,270');
    await h.waitForTiles(page);
    const region = await page.evaluate(() => window.tessera.region());
    assert.equal(region.rotation, 270);
    // The region is fitted to the window: one side matches, the other grows.
    const fits = (Math.abs(region.w - 800) <= 1 && region.h >= 599) || (Math.abs(region.h - 600) <= 1 && region.w >= 799);
    assert.ok(fits, JSON.stringify(region));
    assert.ok(Math.abs(region.x + region.w / 2 - 800) <= 1 && Math.abs(region.y + region.h / 2 - 600) <= 1);
    await page.close();
  });

  test('"Download view" links the IIIF URL of the visible region', async () => {
    const page = await open('view/big.tif#512,256,640,480,90');
    await h.waitForTiles(page);
    const region = await page.evaluate(() => window.tessera.region());
    const href = await page.getAttribute('a.tv-download', 'href');
    const x0 = Math.max(0, region.x);
    const y0 = Math.max(0, region.y);
    const x1 = Math.min(WIDTH, region.x + region.w);
    const y1 = Math.min(HEIGHT, region.y + region.h);
    assert.equal(href, `${server.url}iiif/3/big.tif/${x0},${y0},${x1 - x0},${y1 - y0}/max/90/default.jpg`);
    const response = await fetch(href);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    await page.close();
  });

  test('a scale bar appears when the image records its resolution', async () => {
    const page = await open('view/measured.tif');
    await h.waitForTiles(page);
    const stage = await stageSize(page);
    // At 100% one screen pixel is 0.1 mm: the longest round length within
    // 120 px is 1 cm, 100 px long.
    await showHash(page, `#0,0,${stage.width},${stage.height},0`, '100%');
    assert.equal(await page.textContent('.tv-scale-label'), '1 cm');
    const width = await page.evaluate(() => document.querySelector('.tv-scale-bar').getBoundingClientRect().width);
    assert.ok(Math.abs(width - 100) < 1, `bar is ${width} px`);
    await showHash(page, `#0,0,${stage.width * 2},${stage.height * 2},0`, '50%');
    assert.equal(await page.textContent('.tv-scale-label'), '2 cm');
    await page.close();

    // libvips's default resolution (10 pixels/cm) is no measurement: no bar.
    const plain = await open('view/big.tif');
    await h.waitForTiles(plain);
    assert.equal(await plain.isVisible('.tv-scale'), false);
    await plain.close();
  });

  test('every control has a label, and Tab reaches them in order', async () => {
    const page = await open('view/big.tif');
    await h.waitForTiles(page);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('button, a, input')]
        .filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim()))
        .map((e) => e.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
    const order = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()));
    }
    assert.deepEqual(order, ['← Gallery', 'Zoom out', 'Zoom in', 'Home', 'Rotate anticlockwise']);
    // Enter on a focused button works like a click.
    const zoom = (await viewport(page)).zoom;
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // Zoom in
    assert.ok((await viewport(page)).zoom > zoom * 1.4);
    await page.close();
  });

  test('the adjustments panel has the server invert and dim the tiles, and Reset undoes it', async () => {
    const page = await open('view/big.tif');
    await h.waitForTiles(page);
    await page.keyboard.press('n'); // the navigator would cover a corner
    const stage = await stageSize(page);
    const region = { x: 300, y: 200, w: stage.width, h: stage.height };
    await showHash(page, `#${region.x},${region.y},${region.w},${region.h},0`, '100%');
    const tiles = [];
    page.on('request', (request) => {
      if (/\/iip\?FIF=big\.tif&.*JTL=/.test(request.url())) tiles.push(request.url());
    });
    assert.equal(await page.isVisible('.tv-adjust'), false);
    await page.keyboard.press('a');
    assert.equal(await page.isVisible('.tv-adjust'), true);
    await page.check('.tv-adjust input[type=checkbox]');
    await page.$eval('.tv-adjust input[aria-label=Contrast]', (input) => {
      input.value = '0.8';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const iipShown = () =>
      page.waitForFunction(() => {
        const item = window.tessera.viewer.world.getItemAt(0);
        return item && item.source instanceof OpenSeadragon.IIPTileSource && window.tessera.viewer.world.getItemCount() === 1;
      });
    await iipShown();
    // The panel would cover a corner of the view. (Focus is in the panel, where
    // keys belong to its controls: the button closes it.)
    await page.click('button[aria-label="Adjust the image"]');
    assert.equal(await page.isVisible('.tv-adjust'), false);
    await h.waitForTiles(page);
    const at = await page.evaluate(() => window.tessera.region());
    const { image } = await h.shoot(page, '.tv-osd', dir);
    const want = h.crop(source, Math.round(at.x), Math.round(at.y), image.width, image.height);
    const processed = { ...want, data: want.data.map((v) => Math.floor((1 - v / 255) * 0.8 * 255 + 1e-7)) };
    const diff = h.meanAbsDiff(image, processed);
    assert.ok(diff < 6, `mean difference ${diff.toFixed(2)} from the inverted source`);
    assert.ok(h.meanAbsDiff(image, want) > 3 * diff + 20, 'the view is not processed');
    assert.ok(tiles.length > 0 && tiles.every((t) => /&CNT=0\.8&INV&/.test(t)), tiles.slice(0, 2).join(' '));
    // The view stayed where it was.
    assert.ok(Math.abs(at.x - region.x) <= 1 && Math.abs(at.w - region.w) <= 1, JSON.stringify(at));
    // Download view exports it with the same commands.
    const href = await page.getAttribute('.tv-download', 'href');
    assert.match(href, /\/iip\?FIF=big\.tif&CNT=0\.8&INV&RGN=[\d.]+,[\d.]+,[\d.]+,[\d.]+&WID=\d+&CVT=jpeg$/);
    const exported = await page.evaluate(async (url) => {
      const response = await fetch(url);
      return { status: response.status, type: response.headers.get('content-type') };
    }, href);
    assert.deepEqual(exported, { status: 200, type: 'image/jpeg' });

    await page.click('button[aria-label="Adjust the image"]');
    await page.click('.tv-adjust button');
    await page.click('button[aria-label="Adjust the image"]');
    await page.waitForFunction(() => {
      const item = window.tessera.viewer.world.getItemAt(0);
      return item && !(item.source instanceof OpenSeadragon.IIPTileSource) && window.tessera.viewer.world.getItemCount() === 1;
    });
    await h.waitForTiles(page);
    const back = await h.shoot(page, '.tv-osd', dir);
    assert.ok(h.meanAbsDiff(back.image, want) < 6, 'Reset did not bring the plain image back');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('opens an image of any IIIF server from its info.json URL', async () => {
    const info = `${server.url}iiif/3/measured.tif/info.json`;
    const page = await open(`view?iiif=${encodeURIComponent(info)}`);
    const stats = await h.waitForTiles(page);
    assert.equal(stats.tilesFailed, 0);
    assert.equal(await page.textContent('.tv-title'), 'measured.tif');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
