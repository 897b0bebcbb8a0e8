// /compare/{id1}/{id2}: two images of the same object (a painting and its
// X-radiograph, say), overlaid with a slider that fades from the first to the
// second, or side by side with pan, zoom and rotation locked together.
import { el, encodeId, imageService, pageConfig, siteUrl } from './common.js';
import {
  bindShortcuts,
  button,
  createOsd,
  helpDialog,
  rotateBy,
  toggleFullscreen,
  toggleNavigator,
  viewerShortcuts,
  zoomBy,
} from './controls.js';
import { formatPercent, showRegion, visibleRegion, zoomPercent } from './view-state.js';

const config = pageConfig();
const [first, second] = config.ids || [];
const names = [first, second].map((id) => id?.split('/').pop());
const sources = [first, second].map((id) => `${imageService(id)}/info.json`);

const state = { mode: 'overlay', opacity: 0.5, viewers: [], navigator: true };
const primary = () => state.viewers[0];

const app = document.getElementById('app');
const root = el('div', { class: 'tv' });
const stage = el('div', { class: 'tv-stage tv-compare' });
const openHelp = helpDialog(root, [
  ['m', 'Overlay or side by side'],
  ['[ and ]', 'Fade towards the first or the second image'],
]);

const zoomValue = el('span', { class: 'tv-zoom-value' }, '–');
const slider = el('input', {
  type: 'range',
  id: 'tv-opacity',
  min: '0',
  max: '100',
  step: '1',
  value: String(state.opacity * 100),
  'aria-valuetext': '',
});
const fader = el(
  'div',
  { class: 'tv-fader' },
  el('label', { for: 'tv-opacity', class: 'tv-sr' }, `Opacity of ${names[1]} over ${names[0]}`),
  el('span', { class: 'tv-fader-end', 'aria-hidden': 'true' }, names[0]),
  slider,
  el('span', { class: 'tv-fader-end', 'aria-hidden': 'true' }, names[1]),
);
const modeButtons = {
  overlay: el('button', { type: 'button', class: 'tv-button tv-text', 'aria-pressed': 'true' }, 'Overlay'),
  side: el('button', { type: 'button', class: 'tv-button tv-text', 'aria-pressed': 'false' }, 'Side by side'),
};
const navButton = button({ label: 'Navigator', icon: 'navigator', shortcut: 'n', pressed: true, onClick: () => setNavigator() });

root.append(
  el(
    'header',
    { class: 'tv-bar' },
    el('a', { class: 'tv-link tv-back', href: siteUrl('./') }, '← Gallery'),
    el('h1', { class: 'tv-title' }, `${names[0]} / ${names[1]}`),
    el('div', { class: 'tv-group', role: 'group', 'aria-label': 'Mode (m)' }, modeButtons.overlay, modeButtons.side),
    fader,
    el(
      'div',
      { class: 'tv-group', role: 'group', 'aria-label': 'View' },
      button({ label: 'Zoom out', icon: 'zoomOut', shortcut: '-', keyshortcuts: 'Minus', onClick: () => zoomBy(primary(), 1 / 1.5) }),
      el('span', { class: 'tv-zoom', title: 'Zoom: screen pixels per image pixel' }, el('span', { class: 'tv-sr' }, 'Zoom '), zoomValue),
      button({ label: 'Zoom in', icon: 'zoomIn', shortcut: '+', keyshortcuts: 'Plus', onClick: () => zoomBy(primary(), 1.5) }),
      button({ label: 'Home', icon: 'home', shortcut: 'h', onClick: () => primary().viewport.goHome() }),
      button({ label: 'Rotate anticlockwise', icon: 'rotateLeft', shortcut: 'Shift+R', onClick: () => rotateBy(primary(), -90) }),
      button({ label: 'Rotate clockwise', icon: 'rotateRight', shortcut: 'r', onClick: () => rotateBy(primary(), 90) }),
      navButton,
      button({ label: 'Fullscreen', icon: 'fullscreen', shortcut: 'f', onClick: () => toggleFullscreen(root) }),
    ),
    el('a', { class: 'tv-link', href: siteUrl(`view/${encodeId(first)}`) }, names[0]),
    el('a', { class: 'tv-link', href: siteUrl(`view/${encodeId(second)}`) }, names[1]),
    button({ label: 'Keyboard shortcuts', icon: 'help', shortcut: '?', onClick: () => openHelp() }),
  ),
  stage,
);
app.append(root);
document.title = `${names[0]} / ${names[1]} · Tessera`;

function setNavigator(show = !state.navigator) {
  state.navigator = show;
  for (const viewer of state.viewers) toggleNavigator(viewer, show);
  navButton.setAttribute('aria-pressed', String(show));
}

function setOpacity(value) {
  state.opacity = Math.max(0, Math.min(1, value));
  slider.value = String(Math.round(state.opacity * 100));
  slider.setAttribute('aria-valuetext', `${Math.round(state.opacity * 100)}% ${names[1]}`);
  const top = state.mode === 'overlay' && primary()?.world.getItemAt(1);
  if (top) top.setOpacity(state.opacity);
}

function updateZoom() {
  if (primary()?.world.getItemAt(0)) zoomValue.textContent = formatPercent(zoomPercent(primary()));
}

// Side by side: whichever viewer the user moves leads, the other follows.
function lock(viewers) {
  let leading = false;
  for (const source of viewers) {
    const follow = () => {
      if (leading) return;
      leading = true;
      for (const other of viewers) {
        if (other === source) continue;
        other.viewport.setRotation(source.viewport.getRotation(), false);
        other.viewport.zoomTo(source.viewport.getZoom(), null, false);
        other.viewport.panTo(source.viewport.getCenter(), false);
      }
      leading = false;
    };
    for (const event of ['zoom', 'pan', 'rotate']) source.addHandler(event, follow);
  }
}

function setMode(mode) {
  const region = primary() && visibleRegion(primary());
  for (const viewer of state.viewers) viewer.destroy();
  stage.replaceChildren();
  state.mode = mode;
  state.viewers = [];
  stage.dataset.mode = mode;
  fader.hidden = mode !== 'overlay';
  for (const [name, b] of Object.entries(modeButtons)) b.setAttribute('aria-pressed', String(name === mode));

  const panes = (mode === 'overlay' ? [0] : [0, 1]).map((i) =>
    el('div', { class: 'tv-osd', role: 'region', 'aria-label': mode === 'overlay' ? `${names[0]} and ${names[1]}` : names[i] }),
  );
  stage.append(...panes);
  if (mode === 'overlay') {
    const viewer = createOsd(panes[0], { tileSources: sources[0] });
    viewer.addOnceHandler('open', () => {
      // Both at the same place and width, so that registered images coincide.
      viewer.addTiledImage({ tileSource: sources[1], index: 1, x: 0, y: 0, width: 1, opacity: state.opacity });
    });
    state.viewers = [viewer];
  } else {
    state.viewers = panes.map((pane, i) => createOsd(pane, { tileSources: sources[i] }));
    lock(state.viewers);
  }
  state.viewers.forEach((viewer, i) => {
    viewer.addOnceHandler('open', () => {
      toggleNavigator(viewer, state.navigator);
      if (region && i === 0) showRegion(viewer, region, true);
      if (i > 0 && primary().world.getItemAt(0)) {
        // Opened after the first pane: take its view.
        viewer.viewport.setRotation(primary().viewport.getRotation(), true);
        viewer.viewport.zoomTo(primary().viewport.getZoom(), null, true);
        viewer.viewport.panTo(primary().viewport.getCenter(), true);
      }
    });
  });
  primary().addHandler('viewport-change', updateZoom);
  primary().addHandler('open', updateZoom);
}

modeButtons.overlay.addEventListener('click', () => setMode('overlay'));
modeButtons.side.addEventListener('click', () => setMode('side'));
slider.addEventListener('input', () => setOpacity(Number(slider.value) / 100));
bindShortcuts(document, {
  ...viewerShortcuts(primary, { fullscreenElement: root, onNavigator: () => setNavigator(), onHelp: () => openHelp() }),
  m: () => setMode(state.mode === 'overlay' ? 'side' : 'overlay'),
  '[': () => setOpacity(state.opacity - 0.1),
  ']': () => setOpacity(state.opacity + 0.1),
});

setMode('overlay');
setOpacity(state.opacity);
window.tessera = {
  get viewers() {
    return state.viewers;
  },
  get viewer() {
    return primary();
  },
  mode: () => state.mode,
  setMode,
  setOpacity,
};
