// /compare/{id1}/{id2}: the overlay's slider fades from one image to the
// other, pixel for pixel; side by side, the two views move together.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync } from 'node:fs';
import * as h from './harness.mjs';

const WIDTH = 2400;
const HEIGHT = 1600;
let dir, server, browser, first, second;

before(async () => {
  dir = h.tempDir('compare');
  first = h.pattern(WIDTH, HEIGHT, 0);
  second = h.pattern(WIDTH, HEIGHT, 2);
  h.makePyramid(path.join(dir, 'root/painting.tif'), first);
  // An id with a slash: the page finds where the first id ends.
  h.makePyramid(path.join(dir, 'root/xray/painting.tif'), second);
  server = await h.startServer(path.join(dir, 'root'));
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const URL_PATH = 'compare/painting.tif/xray/painting.tif';

async function open() {
  const page = await browser.newPage();
  await page.goto(server.url + URL_PATH);
  await page.waitForFunction(() => window.tessera?.viewer?.world.getItemCount() === 2);
  await h.waitForTiles(page);
  return page;
}

// Shows the region at (x, y) at 50% in the first viewer.
async function showAtHalf(page, x, y) {
  await page.evaluate(
    ([x, y]) => {
      const viewer = window.tessera.viewer;
      const size = viewer.viewport.getContainerSize();
      const rect = viewer.world.getItemAt(0).imageToViewportRectangle(x, y, size.x * 2, size.y * 2);
      viewer.viewport.fitBounds(rect, true);
    },
    [x, y],
  );
  await h.waitForTiles(page);
}

const viewState = (page, i) =>
  page.evaluate((i) => {
    const vp = window.tessera.viewers[i].viewport;
    return { zoom: vp.getZoom(false), center: vp.getCenter(false), rotation: vp.getRotation(false) };
  }, i);

describe('compare', () => {
  test('overlays both images, every tile loaded', async () => {
    const page = await open();
    const stats = await h.waitForTiles(page);
    assert.equal(stats.tilesFailed, 0);
    assert.equal(await page.textContent('.tv-title'), 'painting.tif / painting.tif');
    const opacities = await page.evaluate(() => [0, 1].map((i) => window.tessera.viewer.world.getItemAt(i).getOpacity()));
    assert.deepEqual(opacities, [1, 0.5]);
    assert.equal(await page.getAttribute('#tv-opacity', 'value'), '50');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the slider fades from the first image to the second, pixel for pixel', async () => {
    const page = await open();
    await page.keyboard.press('n');
    await showAtHalf(page, 40, 60);
    const stage = await page.locator('.tv-osd').boundingBox();
    const expect = (image) => h.crop(h.reduce(image, 2), 20, 30, Math.round(stage.width), Math.round(stage.height));

    await page.focus('#tv-opacity');
    await page.keyboard.press('Home');
    await page.waitForFunction(() => window.tessera.viewer.world.getItemAt(1).getOpacity() === 0);
    await h.waitForTiles(page);
    const atFirst = (await h.shoot(page, '.tv-osd', dir)).image;

    await page.keyboard.press('End');
    await page.waitForFunction(() => window.tessera.viewer.world.getItemAt(1).getOpacity() === 1);
    await h.waitForTiles(page);
    const atSecond = (await h.shoot(page, '.tv-osd', dir)).image;

    const change = h.meanAbsDiff(atFirst, atSecond);
    assert.ok(change > 30, `the slider changed the pixels by ${change.toFixed(2)} only`);
    const firstDiff = h.meanAbsDiff(atFirst, expect(first));
    const secondDiff = h.meanAbsDiff(atSecond, expect(second));
    assert.ok(firstDiff < 6, `at 0 the view differs from the first image by ${firstDiff.toFixed(2)}`);
    assert.ok(secondDiff < 6, `at 100 the view differs from the second image by ${secondDiff.toFixed(2)}`);

    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute('#tv-opacity', 'aria-valuetext'), '99% painting.tif');
    await page.click('.tv-title'); // shortcuts are for the page, not the slider
    await page.keyboard.press('[');
    const opacity = await page.evaluate(() => window.tessera.viewer.world.getItemAt(1).getOpacity());
    assert.ok(Math.abs(opacity - 0.89) < 1e-9, `opacity ${opacity}`);
    await page.close();
  });

  test('side by side, pan, zoom and rotation are locked together', async () => {
    const page = await open();
    await page.keyboard.press('m');
    await page.waitForFunction(() => window.tessera.viewers.length === 2);
    assert.equal(await page.getAttribute('.tv-compare', 'data-mode'), 'side');
    assert.equal(await page.isVisible('#tv-opacity'), false);
    for (const i of [0, 1]) await h.waitForTiles(page, `window.tessera.viewers[${i}]`);

    await page.keyboard.press('+');
    await page.keyboard.press('r');
    await h.waitForTiles(page, 'window.tessera.viewers[1]');
    let [a, b] = [await viewState(page, 0), await viewState(page, 1)];
    assert.ok(Math.abs(a.zoom - b.zoom) < 1e-9 && a.rotation === 90 && b.rotation === 90, JSON.stringify([a, b]));

    // Dragging the second pane moves the first.
    const box = (await page.locator('.tv-osd').all())[1];
    const r = await box.boundingBox();
    await page.mouse.move(r.x + r.width / 2, r.y + r.height / 2);
    await page.mouse.down();
    await page.mouse.move(r.x + r.width / 2 - 120, r.y + r.height / 2 - 60, { steps: 6 });
    await page.mouse.up();
    for (const i of [0, 1]) await h.waitForTiles(page, `window.tessera.viewers[${i}]`);
    [a, b] = [await viewState(page, 0), await viewState(page, 1)];
    assert.ok(Math.abs(a.center.x - b.center.x) < 1e-9 && Math.abs(a.center.y - b.center.y) < 1e-9, JSON.stringify([a, b]));
    const before = await page.evaluate(() => window.tessera.viewer.viewport.getCenter(false));
    assert.notDeepEqual(before, { x: 0.5, y: HEIGHT / WIDTH / 2 });

    // Back to the overlay, at the same view.
    const region = await page.evaluate(() => {
      const v = window.tessera.viewer;
      return v.world.getItemAt(0).viewportToImageRectangle(v.viewport.getBounds(true).getBoundingBox());
    });
    await page.keyboard.press('m');
    await page.waitForFunction(() => window.tessera.mode() === 'overlay' && window.tessera.viewer.world.getItemCount() === 2);
    await h.waitForTiles(page);
    const again = await page.evaluate(() => {
      const v = window.tessera.viewer;
      return v.world.getItemAt(0).viewportToImageRectangle(v.viewport.getBounds(true).getBoundingBox());
    });
    assert.ok(Math.abs(again.x - region.x) < 2 && Math.abs(again.width - region.width) < 2, JSON.stringify([region, again]));
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('answers 404 unless both ids name images', async () => {
    assert.equal((await fetch(`${server.url}compare/painting.tif/nothing.tif`)).status, 404);
    assert.equal((await fetch(`${server.url}compare/painting.tif`)).status, 400);
    assert.equal((await fetch(`${server.url}${URL_PATH}`)).status, 200);
  });
});
