// What the viewer tests share: test images made with the vips CLI, the real
// tessera binary on a free port, headless Chromium driven by playwright-core,
// and pixel comparisons.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
// playwright-core is a devDependency of viewer/ (one package.json, one lock).
const require = createRequire(path.join(repo, 'viewer/package.json'));
const { chromium } = require('playwright-core');

export const BINARY = process.env.TESSERA_BINARY || path.join(repo, 'build/tessera');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), `tessera-${prefix}-`));
}

// --- images ----------------------------------------------------------------

/**
 * An RGB image of smooth gradients and soft blobs every ~128 px, so that any
 * misplaced or misscaled tile shows, while JPEG stays within a few levels.
 * `variant` changes the colours (0, 1, 2, ...), for images that must differ.
 */
export function pattern(width, height, variant = 0) {
  const data = new Uint8Array(width * height * 3);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const fx = x / width;
      const fy = y / height;
      const blob = 40 * Math.sin(x * 0.049) * Math.cos(y * 0.053);
      let v = [30 + 180 * fx + blob, 30 + 180 * fy - blob, 128 + 90 * Math.sin(6 * (fx + fy))];
      if (variant % 2 === 1) v = v.map((c) => 255 - c);
      if (variant >= 2) v = [v[(variant) % 3], v[(variant + 1) % 3], v[(variant + 2) % 3]];
      const i = (y * width + x) * 3;
      data[i] = clamp(v[0]);
      data[i + 1] = clamp(v[1]);
      data[i + 2] = clamp(v[2]);
    }
  }
  return { width, height, data };
}

export function writePpm(file, image) {
  const header = Buffer.from(`P6\n${image.width} ${image.height}\n255\n`, 'ascii');
  writeFileSync(file, Buffer.concat([header, Buffer.from(image.data)]));
}

export function readPpm(file) {
  const bytes = readFileSync(file);
  // "P6" width height maxval, separated by whitespace or comments, then one
  // byte of whitespace.
  const fields = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[at]))) at++;
    if (bytes[at] === 0x23) {
      // A comment ("#vips2ppm ...") runs to the end of its line.
      while (bytes[at] !== 0x0a) at++;
      continue;
    }
    const start = at;
    while (!/\s/.test(String.fromCharCode(bytes[at]))) at++;
    fields.push(bytes.subarray(start, at).toString('ascii'));
  }
  if (fields[0] !== 'P6') throw new Error(`${file}: not a binary PPM`);
  const [width, height] = [Number(fields[1]), Number(fields[2])];
  return { width, height, data: new Uint8Array(bytes.subarray(at + 1, at + 1 + width * height * 3)) };
}

/** Writes `image` as a tiled JPEG pyramid (vips tiffsave). */
export function makePyramid(file, image, extra = []) {
  mkdirSync(path.dirname(file), { recursive: true });
  const ppm = `${file}.ppm`;
  writePpm(ppm, image);
  execFileSync('vips', ['tiffsave', ppm, file, '--tile', '--pyramid', '--compression', 'jpeg',
    '--Q', '90', '--tile-width', '256', '--tile-height', '256', ...extra]);
  rmSync(ppm);
}

export function crop(image, x, y, width, height) {
  if (x < 0 || y < 0 || x + width > image.width || y + height > image.height) {
    throw new Error(`crop ${x},${y},${width},${height} outside ${image.width}x${image.height}`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 3;
    out.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return { width, height, data: out };
}

/** Each factor x factor block averaged, as pyramid levels are made. */
export function reduce(image, factor) {
  const width = Math.floor(image.width / factor);
  const height = Math.floor(image.height / factor);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let b = 0; b < 3; b++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) {
            sum += image.data[((y * factor + dy) * image.width + x * factor + dx) * 3 + b];
          }
        }
        out[(y * width + x) * 3 + b] = Math.round(sum / (factor * factor));
      }
    }
  }
  return { width, height, data: out };
}

export function meanAbsDiff(a, b) {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`sizes differ: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** A PNG (a screenshot) as RGB pixels, through the vips CLI. */
export function decodePng(png, dir) {
  const pngFile = path.join(dir, `shot-${process.hrtime.bigint()}.png`);
  const ppmFile = pngFile.replace(/\.png$/, '.ppm');
  writeFileSync(pngFile, png);
  execFileSync('vips', ['extract_band', pngFile, ppmFile, '0', '--n', '3']);
  const image = readPpm(ppmFile);
  rmSync(pngFile);
  rmSync(ppmFile);
  return image;
}

/** The width and height of an encoded image, through vipsheader. */
export function imageSize(bytes, dir) {
  const file = path.join(dir, `size-${process.hrtime.bigint()}`);
  writeFileSync(file, bytes);
  const size = ['width', 'height'].map((f) => Number(execFileSync('vipsheader', ['-f', f, file]).toString()));
  rmSync(file);
  return size;
}

// --- the server --------------------------------------------------------------

/** Starts `tessera serve root --port 0`; resolves to {url, log(), stop()}. */
export function startServer(root, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, ['serve', root, '--port', '0', '--host', '127.0.0.1', '--threads', '2', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera did not start within 20 s:\n${out}${err}`));
    }, 20000);
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /Tessera listening on (http:\/\/\S+?\/)\s/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          log: () => err,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera exited (${code}) before listening:\n${out}${err}`));
    });
  });
}

// --- the browser -------------------------------------------------------------

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium with a fresh profile; resolves to {context, newPage(),
 * close()}. Every page records failed requests and console errors.
 */
export async function launchBrowser({ width = 1000, height = 700 } = {}) {
  const profile = tempDir('chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width, height },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
      });
      page.on('requestfailed', (request) => {
        // Image loads cancelled by navigation or a new page are not failures.
        const reason = request.failure()?.errorText || '';
        if (!reason.includes('ERR_ABORTED')) page.problems.push(`failed: ${request.url()} ${reason}`);
      });
      page.on('response', (response) => {
        if (response.status() >= 400) page.problems.push(`${response.status()}: ${response.url()}`);
      });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the viewer (window.tessera.viewer, or `expression`) has stopped
 * animating and drawn every tile of its view; returns its tile counts.
 */
export async function waitForTiles(page, expression = 'window.tessera.viewer', timeout = 20000) {
  await page.waitForFunction(
    (expr) => {
      // eslint-disable-next-line no-eval
      const viewer = eval(expr);
      if (!viewer || viewer.world.getItemCount() === 0) return false;
      const vp = viewer.viewport;
      const still =
        Math.abs(vp.getZoom(true) - vp.getZoom(false)) < 1e-9 &&
        vp.getCenter(true).distanceTo(vp.getCenter(false)) < 1e-9 &&
        Math.abs(vp.getRotation(true) - vp.getRotation(false)) < 1e-9;
      for (let i = 0; i < viewer.world.getItemCount(); i++) {
        // OpenSeadragon loads nothing for an image it does not draw.
        const item = viewer.world.getItemAt(i);
        if (item.getOpacity() > 0 && !item.getFullyLoaded()) return false;
      }
      return still;
    },
    expression,
    { timeout, polling: 100 },
  );
  return page.evaluate((expr) => ({ ...eval(expr).tessera }), expression);
}

/** The pixels of an element as the screen shows them. */
export async function shoot(page, selector, dir) {
  const box = await page.locator(selector).first().boundingBox();
  const png = await page.screenshot({ clip: box, type: 'png' });
  return { box, image: decodePng(png, dir) };
}
