// OpenSeadragon itself, on a page of another site, opens one image through
// each tile protocol Tessera speaks (DeepZoom, Zoomify, IIIF, IIP, and
// iipsrv's /iip?DeepZoom=, ?Zoomify=, ?IIIF= forms): at 25%, 50% and 100%
// every tile loads, none fails, the tiles come from the protocol asked for,
// the view is drawn from the level of that scale, and its pixels match the
// source image's region.
import assert from 'node:assert/strict';
import http from 'node:http';
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './harness.mjs';

// Odd sizes: levels of 1300.5 and 767.5 pixels make the protocols round.
const WIDTH = 2601;
const HEIGHT = 1535;
const STAGE = { width: 400, height: 300 };
// IIP's FIF carries a name that must be percent-encoded to arrive whole.
const IIP_NAME = 'big & small+1.tif';
// The coarsest view first, so that each view's level is loaded anew. Each
// region leaves 64 image pixels on its right for the shifted comparison.
const VIEWS = [
  { factor: 4, x: 300, y: 100 },
  { factor: 2, x: 700, y: 400 },
  { factor: 1, x: 1100, y: 600 },
];

let dir, server, browser, host, source;
const expected = new Map();

before(async () => {
  dir = h.tempDir('tile-sources');
  source = h.pattern(WIDTH, HEIGHT, 2);
  h.makePyramid(path.join(dir, 'root/big.tif'), source);
  copyFileSync(path.join(dir, 'root/big.tif'), path.join(dir, 'root', IIP_NAME));
  for (const { factor } of VIEWS) expected.set(factor, factor === 1 ? source : h.reduce(source, factor));
  server = await h.startServer(path.join(dir, 'root'));
  // Another origin, as on a site that shows the images of a Tessera server.
  host = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(hostPage());
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

// OpenSeadragon as anyone would set it up, plus tile counters for
// h.waitForTiles. minPixelRatio 0.9 (0.5 by default) keeps OpenSeadragon
// from fetching the next finer level at 50% and 25%, so that each view is
// drawn from one level, one screen pixel per level pixel, and each level's
// tiles are compared with the source. Zoomify has no descriptor that
// OpenSeadragon reads: its tile source is given the size from
// ImageProperties.xml.
const hostPage = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tile sources</title><link rel="icon" href="data:,">
<style>body { margin: 0 } #stage { width: ${STAGE.width}px; height: ${STAGE.height}px; background: #000 }</style>
<script src="${server.url}viewer/openseadragon/openseadragon.min.js"></script>
<script src="${server.url}viewer/iip-tile-source.js"></script>
</head><body><div id="stage"></div>
<script>
async function zoomify(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ': ' + response.status);
  const xml = new DOMParser().parseFromString(await response.text(), 'application/xml');
  const properties = xml.querySelector('IMAGE_PROPERTIES');
  return {
    type: 'zoomifytileservice',
    width: Number(properties.getAttribute('WIDTH')),
    height: Number(properties.getAttribute('HEIGHT')),
    tileSize: Number(properties.getAttribute('TILESIZE')),
    tilesUrl: url.replace(/ImageProperties\\.xml$/, ''),
  };
}

async function show(tileSources) {
  const viewer = OpenSeadragon({
    element: document.getElementById('stage'),
    tileSources: await tileSources,
    crossOriginPolicy: 'Anonymous',
    drawer: 'canvas',
    showNavigationControl: false,
    minPixelRatio: 0.9,
  });
  viewer.tessera = { tilesLoaded: 0, tilesFailed: 0, levels: [] };
  viewer.addHandler('tile-loaded', (event) => {
    viewer.tessera.tilesLoaded++;
    viewer.tessera.levels.push(event.tile.level);
  });
  viewer.addHandler('tile-load-failed', () => viewer.tessera.tilesFailed++);
  viewer.addHandler('open-failed', (event) => (window.openFailed = event.message || 'open failed'));
  window.viewer = viewer;
}
</script></body></html>`;

// Each form: how the page opens it, the request for the image's description,
// and the shape of its tile URLs.
const iipName = encodeURIComponent(IIP_NAME);
const SOURCES = [
  {
    name: 'DeepZoom',
    open: (s) => `'${s}deepzoom/big.tif.dzi'`,
    info: /\/deepzoom\/big\.tif\.dzi$/,
    tile: /\/deepzoom\/big\.tif_files\/\d+\/\d+_\d+\.jpg$/,
  },
  {
    name: 'Zoomify',
    open: (s) => `zoomify('${s}zoomify/big.tif/ImageProperties.xml')`,
    info: /\/zoomify\/big\.tif\/ImageProperties\.xml$/,
    tile: /\/zoomify\/big\.tif\/TileGroup\d+\/\d+-\d+-\d+\.jpg$/,
  },
  {
    name: 'IIIF',
    open: (s) => `'${s}iiif/3/big.tif/info.json'`,
    info: /\/iiif\/3\/big\.tif\/info\.json$/,
    tile: /\/iiif\/3\/big\.tif\/(full|\d+,\d+,\d+,\d+)\/\d*,\d*\/0\/default\.jpg$/,
  },
  {
    name: 'IIP',
    open: (s) => `Tessera.iipTileSource('${s}iip', ${JSON.stringify(IIP_NAME)})`,
    info: new RegExp(`/iip\\?FIF=${escapeRegExp(iipName)}&obj=IIP,1\\.0&obj=Max-size&obj=Tile-size&obj=Resolution-number`),
    tile: new RegExp(`/iip\\?FIF=${escapeRegExp(iipName)}&JTL=\\d+,\\d+$`),
  },
  {
    name: 'IIP DeepZoom=',
    open: (s) => `'${s}iip?DeepZoom=big.tif.dzi'`,
    info: /\/iip\?DeepZoom=big\.tif\.dzi$/,
    tile: /\/iip\?DeepZoom=big\.tif_files\/\d+\/\d+_\d+\.jpg$/,
  },
  {
    name: 'IIP Zoomify=',
    open: (s) => `zoomify('${s}iip?Zoomify=big.tif/ImageProperties.xml')`,
    info: /\/iip\?Zoomify=big\.tif\/ImageProperties\.xml$/,
    tile: /\/iip\?Zoomify=big\.tif\/TileGroup\d+\/\d+-\d+-\d+\.jpg$/,
  },
  {
    name: 'IIP IIIF=',
    open: (s) => `'${s}iip?IIIF=big.tif/info.json'`,
    info: /\/iip\?IIIF=big\.tif\/info\.json$/,
    // Ids of this form read "?IIIF=big.tif", as iipsrv writes them.
    tile: /\/iip\?IIIF=big\.tif\/(full|\d+,\d+,\d+,\d+)\/\d*,\d*\/0\/default\.jpg$/,
  },
];

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Shows the image region at (x, y), `factor` image pixels per screen pixel,
// and waits until it is drawn; returns the region OpenSeadragon shows and
// the levels of the tiles loaded meanwhile.
async function showView(page, { factor, x, y }) {
  await page.evaluate(
    ({ factor, cx, cy }) => {
      const viewer = window.viewer;
      const vp = viewer.viewport;
      viewer.tessera.levels = [];
      // The next frame's update decides which tiles the new view needs;
      // until then getFullyLoaded() still speaks of the previous view.
      const updated = new Promise((resolve) => viewer.addOnceHandler('viewport-change', resolve));
      vp.zoomTo(vp.imageToViewportZoom(1 / factor), null, true);
      vp.panTo(vp.imageToViewportCoordinates(cx, cy), true);
      return updated;
    },
    { factor, cx: x + (STAGE.width * factor) / 2, cy: y + (STAGE.height * factor) / 2 },
  );
  const stats = await h.waitForTiles(page, 'window.viewer');
  const shown = await page.evaluate((factor) => {
    const viewer = window.viewer;
    const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds(true));
    const source = viewer.world.getItemAt(0).source;
    // The level whose pixels are this view's screen pixels.
    let level = -1;
    for (let l = source.minLevel; l <= source.maxLevel; l++) {
      if (Math.abs(source.getLevelScale(l) * factor - 1) < 1e-9) level = l;
    }
    return { x: r.x, y: r.y, w: r.width, h: r.height, level };
  }, factor);
  return { shown, stats };
}

describe('OpenSeadragon on Tessera', () => {
  for (const form of SOURCES) {
    test(`opens the image through ${form.name}: every tile loaded, pixels as the source`, async () => {
      const page = await browser.newPage();
      const requests = [];
      page.on('request', (request) => {
        if (request.url().startsWith(server.url)) requests.push(request.url().slice(server.url.length - 1));
      });
      await page.goto(`http://localhost:${host.address().port}/`);
      await page.evaluate(`show(${form.open(server.url)})`);
      await page.waitForFunction(() => window.viewer?.world.getItemCount() > 0 || window.openFailed);
      assert.equal(await page.evaluate(() => window.openFailed), undefined);

      for (const view of VIEWS) {
        const { shown, stats } = await showView(page, view);
        const where = `${form.name} at 1/${view.factor}`;
        assert.ok(Math.abs(shown.x - view.x) < 0.01 && Math.abs(shown.y - view.y) < 0.01, `${where}: ${JSON.stringify(shown)}`);
        assert.ok(Math.abs(shown.w - STAGE.width * view.factor) < 0.01, `${where}: ${JSON.stringify(shown)}`);
        assert.ok(shown.level >= 0, `${where}: no level of scale 1/${view.factor}`);
        assert.ok(stats.levels.length > 0, `${where}: no tile loaded`);
        assert.equal(Math.max(...stats.levels), shown.level, `${where}: levels loaded ${stats.levels}`);

        const { image } = await h.shoot(page, '#stage', dir);
        const want = expected.get(view.factor);
        const at = (v) => Math.round(v / view.factor);
        const diff = h.meanAbsDiff(image, h.crop(want, at(shown.x), at(shown.y), image.width, image.height));
        assert.ok(diff < 6, `${where}: mean difference ${diff.toFixed(2)}`);
        // The comparison can fail: the view 64 image pixels to the right
        // (half the pattern's period) compares far worse.
        const off = h.meanAbsDiff(image, h.crop(want, at(shown.x + 64), at(shown.y), image.width, image.height));
        assert.ok(off > 3 * diff + 5, `${where}: a shifted region compares as well (${off.toFixed(2)} vs ${diff.toFixed(2)})`);
      }

      const stats = await page.evaluate(() => window.viewer.tessera);
      assert.ok(stats.tilesLoaded > 0, 'no tile loaded');
      assert.equal(stats.tilesFailed, 0);
      const asked = requests.filter((r) => !r.startsWith('/viewer/'));
      assert.ok(asked.some((r) => form.tile.test(r)), `no tile requests: ${asked.join(' ')}`);
      const other = asked.filter((r) => !form.tile.test(r) && !form.info.test(r));
      assert.deepEqual(other, []);
      assert.deepEqual(page.problems, []);
      await page.close();
    });
  }
});

// OpenSeadragon's IIP tile source passes image processing on as IIP
// commands (its `transform` option): the tiles come back processed, at
// every level, and the view shows the source with gamma 2, then inverted,
// then contrast 1.2 (the order iipsrv and Tessera apply them in).
describe('OpenSeadragon IIP transforms on Tessera', () => {
  const adjust = (image) => {
    const data = image.data.map((v) => Math.max(0, Math.min(255, Math.floor((1 - (v / 255) ** 2) * 1.2 * 255 + 1e-7))));
    return { width: image.width, height: image.height, data };
  };
  test('gamma, invert and contrast reach every tile', async () => {
    const page = await browser.newPage();
    const tiles = [];
    page.on('request', (request) => {
      if (/\/iip\?.*&JTL=/.test(request.url())) tiles.push(request.url());
    });
    await page.goto(`http://localhost:${host.address().port}/`);
    const options = JSON.stringify({ transform: { gamma: 2, invert: true, contrast: 1.2 } });
    await page.evaluate(`show(Tessera.iipTileSource('${server.url}iip', 'big.tif', ${options}))`);
    await page.waitForFunction(() => window.viewer?.world.getItemCount() > 0 || window.openFailed);
    assert.equal(await page.evaluate(() => window.openFailed), undefined);
    for (const view of VIEWS) {
      const { shown, stats } = await showView(page, view);
      const where = `transform at 1/${view.factor}`;
      assert.ok(stats.levels.length > 0, `${where}: no tile loaded`);
      const { image } = await h.shoot(page, '#stage', dir);
      const want = adjust(expected.get(view.factor));
      const at = (v) => Math.round(v / view.factor);
      const diff = h.meanAbsDiff(image, h.crop(want, at(shown.x), at(shown.y), image.width, image.height));
      assert.ok(diff < 6, `${where}: mean difference ${diff.toFixed(2)}`);
      // Not the unprocessed source, which is far from it.
      const plain = h.meanAbsDiff(image, h.crop(expected.get(view.factor), at(shown.x), at(shown.y), image.width, image.height));
      assert.ok(plain > 3 * diff + 20, `${where}: the unprocessed source compares as well (${plain.toFixed(2)})`);
    }
    const stats = await page.evaluate(() => window.viewer.tessera);
    assert.equal(stats.tilesFailed, 0);
    assert.ok(tiles.length > 0 && tiles.every((t) => /&GAM=2&INV&CNT=1\.2&|CNT=1\.2&GAM=2&INV&/.test(t)), tiles.slice(0, 3).join(' '));
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
