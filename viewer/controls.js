// The controls every viewer page shares: OpenSeadragon with Tessera's
// defaults, toolbar buttons, keyboard shortcuts and the help dialog.
import { el, isTypingTarget } from './common.js';

/** The shortcuts as the help dialog lists them. */
export const SHORTCUTS = [
  ['Arrow keys', 'Pan'],
  ['+ and -', 'Zoom in and out'],
  ['r, Shift+R', 'Rotate by 90° clockwise, anticlockwise'],
  ['f', 'Fullscreen on or off'],
  ['n', 'Show or hide the navigator'],
  ['h', 'Home: the whole image'],
  ['?', 'This list'],
];

let drawer = null;

// OpenSeadragon prefers WebGL, which is fast on a graphics card and several
// times slower than a 2D canvas when the browser emulates it in software
// (SwiftShader, llvmpipe: virtual machines, remote desktops, no GPU).
function preferredDrawer() {
  if (drawer) return drawer;
  let software = true;
  try {
    const gl = document.createElement('canvas').getContext('webgl');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      software = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    software = true;
  }
  drawer = software ? 'canvas' : ['webgl', 'canvas'];
  return drawer;
}

/** An OpenSeadragon viewer without its own buttons or keyboard handling. */
export function createOsd(element, options = {}) {
  const viewer = window.OpenSeadragon({
    element,
    showNavigationControl: false,
    showNavigator: true,
    navigatorPosition: 'BOTTOM_RIGHT',
    navigatorAutoFade: false,
    keyboardNavEnabled: false,
    drawer: preferredDrawer(),
    crossOriginPolicy: 'Anonymous',
    visibilityRatio: 0.2,
    minZoomImageRatio: 0.5,
    maxZoomPixelRatio: 4,
    animationTime: 0.6,
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    gestureSettingsTouch: { pinchToZoom: true, pinchRotate: false, flickEnabled: true },
    ...options,
  });
  viewer.tessera = { tilesLoaded: 0, tilesFailed: 0 };
  viewer.addHandler('tile-loaded', () => viewer.tessera.tilesLoaded++);
  viewer.addHandler('tile-load-failed', () => viewer.tessera.tilesFailed++);
  return viewer;
}

// 24 x 24 line drawings, drawn with the text colour (no font has them all).
const ICONS = {
  zoomIn: 'M5 12h14M12 5v14',
  zoomOut: 'M5 12h14',
  home: 'M4 11l8-7 8 7M6 9.5V20h12V9.5',
  rotateLeft: 'M9 4L5 8l4 4M5 8h9a5 5 0 0 1 0 10h-4',
  rotateRight: 'M15 4l4 4-4 4M19 8h-9a5 5 0 0 0 0 10h4',
  navigator: 'M3 5h18v14H3zM12 12h7v5h-7z',
  fullscreen: 'M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5',
  help: 'M9 9a3 3 0 1 1 4 2.8c-.7.4-1 1-1 1.7V15M12 18.5v.5',
  adjust: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 3v18M12 7h5M12 12h8M12 17h5',
  previous: 'M15 5l-7 7 7 7',
  next: 'M9 5l7 7-7 7',
  folder: 'M3 6h6l2 2h10v11H3z',
};

/** An icon from ICONS, hidden from assistive technology (its button has a label). */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'tv-icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/** A toolbar button: an icon for the eye, a label for everyone. */
export function button({ label, icon: name, shortcut, keyshortcuts, onClick, pressed }) {
  return el(
    'button',
    {
      type: 'button',
      class: 'tv-button',
      'aria-label': label,
      title: shortcut ? `${label} (${shortcut})` : label,
      'aria-keyshortcuts': keyshortcuts || shortcut || null,
      'aria-pressed': pressed === undefined ? null : String(pressed),
      onclick: onClick,
    },
    icon(name),
  );
}

export function normalizeDegrees(degrees) {
  return ((Math.round(degrees) % 360) + 360) % 360;
}

/** Moves the view by a fraction of its size, in screen directions. */
export function panBy(viewer, fx, fy) {
  const size = viewer.viewport.getContainerSize();
  const delta = viewer.viewport.deltaPointsFromPixels(
    new window.OpenSeadragon.Point(fx * size.x, fy * size.y),
  );
  viewer.viewport.panBy(delta);
  viewer.viewport.applyConstraints();
}

export function zoomBy(viewer, factor) {
  viewer.viewport.zoomBy(factor);
  viewer.viewport.applyConstraints();
}

export function rotateBy(viewer, degrees) {
  viewer.viewport.rotateBy(degrees);
}

export function toggleNavigator(viewer, show) {
  const navigator = viewer.navigator?.element;
  if (!navigator) return false;
  const visible = show ?? navigator.style.display === 'none';
  navigator.style.display = visible ? '' : 'none';
  return visible;
}

export function toggleFullscreen(element) {
  if (document.fullscreenElement) return document.exitFullscreen();
  return element.requestFullscreen?.().catch(() => {});
}

/**
 * Calls handlers[event.key] for key presses on `target` that are not typed
 * into a field and carry no Ctrl, Alt or Meta.
 */
export function bindShortcuts(target, handlers) {
  const listener = (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (isTypingTarget(event.target)) return;
    const handler = handlers[event.key];
    if (!handler) return;
    event.preventDefault();
    handler(event);
  };
  target.addEventListener('keydown', listener);
  return () => target.removeEventListener('keydown', listener);
}

/** The standard shortcuts acting on `viewer()` (a function: viewers change). */
export function viewerShortcuts(viewer, { fullscreenElement, onNavigator, onHelp }) {
  const step = 0.1;
  return {
    ArrowLeft: () => panBy(viewer(), -step, 0),
    ArrowRight: () => panBy(viewer(), step, 0),
    ArrowUp: () => panBy(viewer(), 0, -step),
    ArrowDown: () => panBy(viewer(), 0, step),
    '+': () => zoomBy(viewer(), 1.5),
    '=': () => zoomBy(viewer(), 1.5),
    '-': () => zoomBy(viewer(), 1 / 1.5),
    _: () => zoomBy(viewer(), 1 / 1.5),
    r: () => rotateBy(viewer(), 90),
    R: () => rotateBy(viewer(), -90),
    f: () => toggleFullscreen(fullscreenElement),
    n: () => onNavigator(),
    h: () => viewer().viewport.goHome(),
    '?': () => onHelp(),
  };
}

/** The modal list of shortcuts; returns a function that opens it. */
export function helpDialog(container, extra = []) {
  const rows = [...SHORTCUTS, ...extra].map(([keys, what]) =>
    el('tr', {}, el('th', { scope: 'row' }, keys), el('td', {}, what)),
  );
  const close = el('button', { type: 'button', class: 'tv-button tv-text' }, 'Close');
  const dialog = el(
    'dialog',
    { class: 'tv-help', 'aria-labelledby': 'tv-help-title' },
    el('h2', { id: 'tv-help-title' }, 'Keyboard shortcuts'),
    el('table', {}, el('tbody', {}, rows)),
    close,
  );
  close.addEventListener('click', () => dialog.close());
  container.append(dialog);
  return () => (dialog.open ? dialog.close() : dialog.showModal());
}
