// Image adjustments for an image of this server: contrast, gamma, inversion
// and a colour map, done by the server on every tile (IIP's CNT, GAM, INV
// and CMP). While any is set the viewer shows the image through
// OpenSeadragon's IIP tile source with those commands; with none it goes
// back to the IIIF tiles, which the server may send as stored.
import { el } from './common.js';

export const COLOUR_MAPS = [
  ['', 'None'],
  ['GREY', 'Grey (first band)'],
  ['JET', 'Jet'],
  ['HOT', 'Hot'],
  ['COLD', 'Cold'],
  ['RED', 'Red'],
  ['GREEN', 'Green'],
  ['BLUE', 'Blue'],
];

export const NEUTRAL = Object.freeze({ contrast: 1, gamma: 1, invert: false, colormap: '' });

export function isNeutral(a) {
  return a.contrast === 1 && a.gamma === 1 && !a.invert && !a.colormap;
}

/**
 * The `transform` option of OpenSeadragon's IIPTileSource for `a`: only the
 * steps that change something, so that tiles of equal adjustments share
 * one URL (and the server's cache).
 */
export function iipTransform(a) {
  const t = {};
  if (a.contrast !== 1) t.contrast = a.contrast;
  if (a.gamma !== 1) t.gamma = a.gamma;
  if (a.invert) t.invert = true;
  if (a.colormap) t.colormap = a.colormap;
  return t;
}

/** The tile source for image `id` of the IIP endpoint `iip` with `a`. */
export function adjustedTileSource(iip, id, a) {
  // FIF is percent-decoded by the server; slashes keep paths readable.
  const image = encodeURIComponent(id).replace(/%2F/gi, '/');
  return { iipsrv: iip, image, transform: iipTransform(a) };
}

/**
 * The IIP export (CVT) of `region` of image `id` (width x height) with `a`:
 * what "Download view" gives while adjustments are on. The server fits the
 * output within its MAX_CVT.
 */
export function adjustedRegionUrl(iip, id, a, region, width, height) {
  const x0 = Math.max(0, Math.min(width, Math.round(region.x)));
  const y0 = Math.max(0, Math.min(height, Math.round(region.y)));
  const x1 = Math.max(0, Math.min(width, Math.round(region.x + region.w)));
  const y1 = Math.max(0, Math.min(height, Math.round(region.y + region.h)));
  if (x1 <= x0 || y1 <= y0) return null;
  const rgn = [x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height]
    .map((v) => Number(v.toFixed(6)))
    .join(',');
  const t = iipTransform(a);
  const commands = [
    t.contrast !== undefined ? `CNT=${t.contrast}` : null,
    t.gamma !== undefined ? `GAM=${t.gamma}` : null,
    t.invert ? 'INV' : null,
    t.colormap ? `CMP=${t.colormap}` : null,
    `RGN=${rgn}`,
    `WID=${x1 - x0}`,
    region.rotation ? `ROT=${region.rotation}` : null,
    'CVT=jpeg',
  ].filter(Boolean);
  return `${iip}?FIF=${adjustedTileSource(iip, id, a).image}&${commands.join('&')}`;
}

function slider(label, min, max, step, value, onInput) {
  const output = el('output', { class: 'tv-adjust-value' }, value.toFixed(2));
  const input = el('input', {
    type: 'range',
    min: String(min),
    max: String(max),
    step: String(step),
    value: String(value),
    'aria-label': label,
    oninput: () => {
      output.textContent = Number(input.value).toFixed(2);
      onInput(Number(input.value));
    },
  });
  const row = el('label', { class: 'tv-adjust-row' }, el('span', {}, label), input, output);
  row.set = (v) => {
    input.value = String(v);
    output.textContent = v.toFixed(2);
  };
  return row;
}

/**
 * The panel's element; `onChange(adjustments)` runs after each change,
 * settled: a slider dragged across sends its last value, not every step.
 */
export function adjustPanel(onChange) {
  const state = { ...NEUTRAL };
  let timer = 0;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange({ ...state }), 250);
  };
  const contrast = slider('Contrast', 0.2, 4, 0.05, 1, (v) => {
    state.contrast = v;
    changed();
  });
  const gamma = slider('Gamma', 0.2, 4, 0.05, 1, (v) => {
    state.gamma = v;
    changed();
  });
  const invert = el('input', {
    type: 'checkbox',
    'aria-label': 'Invert',
    onchange: () => {
      state.invert = invert.checked;
      changed();
    },
  });
  const colormap = el(
    'select',
    {
      'aria-label': 'Colour map',
      onchange: () => {
        state.colormap = colormap.value;
        changed();
      },
    },
    COLOUR_MAPS.map(([value, label]) => el('option', { value }, label)),
  );
  const reset = el(
    'button',
    {
      type: 'button',
      class: 'tv-link',
      onclick: () => {
        Object.assign(state, NEUTRAL);
        contrast.set(1);
        gamma.set(1);
        invert.checked = false;
        colormap.value = '';
        changed();
      },
    },
    'Reset',
  );
  return el(
    'section',
    { class: 'tv-adjust', hidden: true, 'aria-label': 'Image adjustments' },
    contrast,
    gamma,
    el('label', { class: 'tv-adjust-row' }, el('span', {}, 'Invert'), invert),
    el('label', { class: 'tv-adjust-row' }, el('span', {}, 'Colour map'), colormap),
    reset,
  );
}
