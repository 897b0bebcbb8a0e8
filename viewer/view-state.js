// The view as numbers: the visible region of the image (for the URL and the
// download link), the zoom as a percentage of full resolution, and a scale
// bar's length. Pure functions, apart from the ones that read a viewer.
import { normalizeDegrees } from './controls.js';

/** The region of the first image the view shows, in its pixels, and the rotation. */
export function visibleRegion(viewer) {
  const item = viewer.world.getItemAt(0);
  if (!item) return null;
  const box = viewer.viewport.getBounds(true).getBoundingBox();
  const r = item.viewportToImageRectangle(box);
  return {
    x: Math.round(r.x),
    y: Math.round(r.y),
    w: Math.round(r.width),
    h: Math.round(r.height),
    rotation: normalizeDegrees(viewer.viewport.getRotation(true)),
  };
}

/** Makes the view show `region` of the first image (fitted, centred). */
export function showRegion(viewer, region, immediately = true) {
  const item = viewer.world.getItemAt(0);
  if (!item) return;
  viewer.viewport.setRotation(region.rotation || 0, immediately);
  const rect = item.imageToViewportRectangle(region.x, region.y, region.w, region.h);
  viewer.viewport.fitBounds(rect, immediately);
}

/** "#x,y,w,h" or "#x,y,w,h,rotation" -> region, or null. */
export function parseRegionHash(hash) {
  const match = /^#?(-?\d+),(-?\d+),(\d+),(\d+)(?:,(\d+))?$/.exec(hash || '');
  if (!match) return null;
  const [x, y, w, h, rotation = '0'] = match.slice(1).map(Number);
  if (w <= 0 || h <= 0) return null;
  return { x, y, w, h, rotation: normalizeDegrees(Number(rotation)) };
}

export function formatRegionHash(region) {
  return `#${region.x},${region.y},${region.w},${region.h},${region.rotation}`;
}

/** The service's id and version of an OpenSeadragon IIIF tile source, or null. */
export function serviceOfSource(source) {
  const id = source?.id || source?.['@id'];
  if (!id || typeof id !== 'string') return null;
  return { id: id.replace(/\/$/, ''), version: source.version || 3 };
}

/**
 * The IIIF Image API URL of `region` (clipped to the image), at full
 * resolution or the server's largest size, rotated as shown.
 */
export function regionUrl(service, region, width, height) {
  const x0 = Math.max(0, Math.min(width, region.x));
  const y0 = Math.max(0, Math.min(height, region.y));
  const x1 = Math.max(0, Math.min(width, region.x + region.w));
  const y1 = Math.max(0, Math.min(height, region.y + region.h));
  if (x1 <= x0 || y1 <= y0) return null;
  const whole = x0 === 0 && y0 === 0 && x1 === width && y1 === height;
  const part = whole ? 'full' : `${x0},${y0},${x1 - x0},${y1 - y0}`;
  return `${service.id}/${part}/max/${region.rotation || 0}/default.jpg`;
}

/** Screen (CSS) pixels per image pixel, times 100. */
export function zoomPercent(viewer) {
  const item = viewer.world.getItemAt(0);
  if (!item) return 0;
  return 100 * item.viewportToImageZoom(viewer.viewport.getZoom(true));
}

export function formatPercent(percent) {
  if (percent >= 9.95) return `${Math.round(percent)}%`;
  if (percent >= 0.995) return `${percent.toFixed(1)}%`;
  return `${percent.toFixed(2)}%`;
}

const UNITS = [
  [1000, 'km'],
  [1, 'm'],
  [0.01, 'cm'],
  [0.001, 'mm'],
  [1e-6, 'µm'],
];

function formatLength(metres) {
  for (const [size, unit] of UNITS) {
    if (metres >= size * 0.999) {
      const value = metres / size;
      return `${Number(value.toPrecision(3))} ${unit}`;
    }
  }
  return `${Number((metres / 1e-9).toPrecision(3))} nm`;
}

/**
 * A scale bar at most `maxPixels` wide: the longest round length (1, 2 or 5
 * times a power of ten) that fits, given the metres one image pixel spans
 * and the screen pixels per image pixel.
 */
export function scaleBar(metresPerImagePixel, screenPerImagePixel, maxPixels = 120) {
  if (!(metresPerImagePixel > 0) || !(screenPerImagePixel > 0)) return null;
  const metresPerScreenPixel = metresPerImagePixel / screenPerImagePixel;
  const longest = maxPixels * metresPerScreenPixel;
  const power = 10 ** Math.floor(Math.log10(longest));
  const nice = [5, 2, 1].map((m) => m * power).find((v) => v <= longest * (1 + 1e-9)) || power;
  return { pixels: nice / metresPerScreenPixel, label: formatLength(nice) };
}
