// One image in a full-size viewer: toolbar, OpenSeadragon with navigator,
// zoom indicator, scale bar, the view kept in the URL and a link to
// download it. The view, book and embed pages are built on this.
import { adjustPanel, adjustedRegionUrl, adjustedTileSource, isNeutral } from './adjust-panel.js';
import { el } from './common.js';
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
import { physicalPixelSize } from './iiif.js';
import {
  formatPercent,
  formatRegionHash,
  parseRegionHash,
  regionUrl,
  scaleBar,
  serviceOfSource,
  showRegion,
  visibleRegion,
  zoomPercent,
} from './view-state.js';

/**
 * Builds the viewer inside `container` and opens `options.tileSource`.
 *   title, backHref, manifestHref: the toolbar's heading and links
 *   metresPerPixel: the physical size of a pixel (from the image's DPI), or 0
 *   hash: keep the view in location.hash (#x,y,w,h,rotation)
 *   keyTarget: where the shortcuts listen (document for a page, the
 *     container when embedded in someone else's page)
 *   toolbarStart, after: extra elements after the title / below the image
 *   shortcuts, help: extra key handlers and their help rows
 *   adjust: { iip, id } for an image of this server: a panel of contrast,
 *     gamma, inversion and colour maps, done by the server through IIP
 */
export function mountImageViewer(container, options = {}) {
  // adjustments: the panel's, while any is on (null: none).
  const state = { metresPerPixel: options.metresPerPixel || 0, opened: false, adjustments: null };

  const zoomValue = el('span', { class: 'tv-zoom-value' }, '–');
  const zoom = el(
    'span',
    { class: 'tv-zoom', title: 'Zoom: screen pixels per image pixel' },
    el('span', { class: 'tv-sr' }, 'Zoom '),
    zoomValue,
  );
  const download = el(
    'a',
    { class: 'tv-link tv-download', href: '#', download: true, 'aria-disabled': 'true' },
    'Download view',
  );
  const scaleLine = el('div', { class: 'tv-scale-bar' });
  const scaleLabel = el('span', { class: 'tv-scale-label' });
  const scale = el('div', { class: 'tv-scale', hidden: true, role: 'img' }, scaleLine, scaleLabel);
  const stage = el('div', {
    class: 'tv-osd',
    role: 'region',
    'aria-label': `Image${options.title ? `: ${options.title}` : ''}. Arrow keys pan, + and - zoom.`,
  });

  const root = el('div', { class: 'tv' });
  const openHelp = helpDialog(root, [
    ...(options.adjust ? [['a', 'Image adjustments: contrast, gamma, invert, colour map']] : []),
    ...(options.help || []),
  ]);
  let viewer = null;
  const current = () => viewer;

  const navButton = button({
    label: 'Navigator',
    icon: 'navigator',
    shortcut: 'n',
    pressed: true,
    onClick: () => setNavigator(),
  });
  const fullButton = button({
    label: 'Fullscreen',
    icon: 'fullscreen',
    shortcut: 'f',
    pressed: false,
    onClick: () => toggleFullscreen(root),
  });
  const setNavigator = (show) => {
    navButton.setAttribute('aria-pressed', String(toggleNavigator(viewer, show)));
  };
  document.addEventListener('fullscreenchange', () => {
    fullButton.setAttribute('aria-pressed', String(document.fullscreenElement === root));
  });

  const bar = el(
    'header',
    { class: 'tv-bar' },
    options.backHref ? el('a', { class: 'tv-link tv-back', href: options.backHref }, '← Gallery') : null,
    el('h1', { class: 'tv-title' }, options.title || ''),
    options.toolbarStart || [],
    el(
      'div',
      { class: 'tv-group', role: 'group', 'aria-label': 'View' },
      button({ label: 'Zoom out', icon: 'zoomOut', shortcut: '-', keyshortcuts: 'Minus', onClick: () => zoomBy(viewer, 1 / 1.5) }),
      zoom,
      button({ label: 'Zoom in', icon: 'zoomIn', shortcut: '+', keyshortcuts: 'Plus', onClick: () => zoomBy(viewer, 1.5) }),
      button({ label: 'Home', icon: 'home', shortcut: 'h', onClick: () => viewer.viewport.goHome() }),
      button({ label: 'Rotate anticlockwise', icon: 'rotateLeft', shortcut: 'Shift+R', onClick: () => rotateBy(viewer, -90) }),
      button({ label: 'Rotate clockwise', icon: 'rotateRight', shortcut: 'r', onClick: () => rotateBy(viewer, 90) }),
      navButton,
      fullButton,
    ),
    download,
    options.manifestHref
      ? el('a', { class: 'tv-link', href: options.manifestHref, title: 'IIIF Presentation 3.0 manifest' }, 'IIIF')
      : null,
    button({ label: 'Keyboard shortcuts', icon: 'help', shortcut: '?', onClick: () => openHelp() }),
  );
  // Adjustments: the same image through IIP with the server's processing,
  // put in the place of the plain one so that the view stays where it is.
  let panel = null;
  let adjustButton = null;
  if (options.adjust) {
    panel = adjustPanel((adjustments) => {
      const tileSource = isNeutral(adjustments)
        ? options.tileSource
        : adjustedTileSource(options.adjust.iip, options.adjust.id, adjustments);
      // OpenSeadragon goes home when the world holds one image again.
      const bounds = viewer.viewport.getBounds(true);
      state.adjustments = isNeutral(adjustments) ? null : adjustments;
      viewer.addTiledImage({
        tileSource,
        index: 0,
        replace: true,
        success: () => {
          viewer.viewport.fitBounds(bounds, true);
          updateLinks();
        },
      });
      root.dataset.adjusted = String(!isNeutral(adjustments));
    });
    adjustButton = button({
      label: 'Adjust the image',
      icon: 'adjust',
      shortcut: 'a',
      pressed: false,
      onClick: () => {
        panel.hidden = !panel.hidden;
        adjustButton.setAttribute('aria-pressed', String(!panel.hidden));
      },
    });
    bar.querySelector('.tv-group').append(adjustButton);
  }
  root.append(bar, el('div', { class: 'tv-stage' }, stage, scale, panel), ...(options.after || []));
  container.append(root);

  viewer = createOsd(stage, { tileSources: options.tileSource || null });

  const updateZoom = () => {
    if (!viewer.world.getItemAt(0)) return;
    const percent = zoomPercent(viewer);
    zoomValue.textContent = formatPercent(percent);
    const bar = scaleBar(state.metresPerPixel, percent / 100);
    scale.hidden = !bar;
    if (bar) {
      scaleLine.style.width = `${bar.pixels.toFixed(1)}px`;
      scaleLabel.textContent = bar.label;
      scale.setAttribute('aria-label', `Scale bar: ${bar.label}`);
    }
  };

  const updateLinks = () => {
    const item = viewer.world.getItemAt(0);
    const region = visibleRegion(viewer);
    if (!item || !region) return;
    const size = item.source.dimensions;
    const service = serviceOfSource(item.source);
    const url = state.adjustments
      ? adjustedRegionUrl(options.adjust.iip, options.adjust.id, state.adjustments, region, size.x, size.y)
      : service && regionUrl(service, region, size.x, size.y);
    if (url) {
      download.href = url;
      download.removeAttribute('aria-disabled');
    } else {
      download.removeAttribute('href');
      download.setAttribute('aria-disabled', 'true');
    }
    if (options.hash && state.opened) {
      history.replaceState(history.state, '', formatRegionHash(region));
    }
  };

  viewer.addHandler('open', () => {
    const item = viewer.world.getItemAt(0);
    if (!state.metresPerPixel) state.metresPerPixel = physicalPixelSize(item?.source);
    const region = options.hash && parseRegionHash(location.hash);
    if (region) showRegion(viewer, region, true);
    state.opened = true;
    updateZoom();
    updateLinks();
  });
  viewer.addHandler('viewport-change', updateZoom);
  viewer.addHandler('animation-finish', updateLinks);
  if (options.hash) {
    window.addEventListener('hashchange', (event) => {
      // The URL the user asked for: location.hash may have been rewritten
      // since, by the end of an animation.
      const region = parseRegionHash(new URL(event.newURL).hash);
      if (region && viewer.world.getItemAt(0)) showRegion(viewer, region, false);
    });
  }

  bindShortcuts(options.keyTarget || document, {
    ...viewerShortcuts(current, {
      fullscreenElement: root,
      onNavigator: () => setNavigator(),
      onHelp: () => openHelp(),
    }),
    ...(adjustButton ? { a: () => adjustButton.click() } : {}),
    ...(options.shortcuts || {}),
  });

  return {
    viewer,
    root,
    /** Opens another image in the same viewer (a book's next page). */
    open(tileSource, { metresPerPixel = 0 } = {}) {
      state.metresPerPixel = metresPerPixel;
      state.opened = false;
      viewer.open(tileSource);
    },
    region: () => visibleRegion(viewer),
  };
}
