// /view/{id}: one of this server's images; /view?iiif={URL}: an image of any
// IIIF Image API server (its info.json or base URL).
import { el, encodeId, imageService, pageConfig, siteUrl } from './common.js';
import { mountImageViewer } from './image-viewer.js';

const config = pageConfig();
const app = document.getElementById('app');
const external = new URLSearchParams(location.search).get('iiif');

function galleryOf(id) {
  const folder = id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : '';
  return siteUrl(folder ? `./?folder=${encodeURIComponent(folder)}` : './');
}

let options = null;
if (config.id) {
  options = {
    title: config.name,
    tileSource: `${imageService(config.id)}/info.json`,
    metresPerPixel: config.dpi ? 0.0254 / config.dpi[0] : 0,
    backHref: galleryOf(config.id),
    manifestHref: siteUrl(`iiif/manifest/${encodeId(config.id)}`),
    adjust: { iip: siteUrl('iip'), id: config.id },
  };
} else if (external) {
  const base = external.replace(/\/info\.json$/, '').replace(/\/$/, '');
  options = { title: decodeURIComponent(base.split('/').pop()), tileSource: `${base}/info.json` };
}

if (options) {
  document.title = `${options.title} · Tessera`;
  window.tessera = mountImageViewer(app, { ...options, hash: true, keyTarget: document });
} else {
  app.append(
    el('p', { class: 'tv-message' }, 'Nothing to show: open /view/{id}, or /view?iiif={info.json URL}.'),
  );
}
