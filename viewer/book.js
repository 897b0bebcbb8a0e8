// /book/{sequence}: a folder or numbered files of this server as a book;
// /book?manifest={URL}: any IIIF Presentation 2 or 3 manifest. Pages are
// turned with the buttons, the strip of thumbnails, PageUp/PageDown or [ ],
// and the page is kept in the URL (#page=N).
import { el, encodeId, fetchJson, pageConfig, siteUrl } from './common.js';
import { icon } from './controls.js';
import { mountImageViewer } from './image-viewer.js';
import { labelText, manifestPages, pageThumbnail, pageTileSource } from './iiif.js';

/**
 * Mounts a book viewer for the manifest at `manifestUrl` inside `container`.
 * hash: keep the page in location.hash; keyTarget: where shortcuts listen.
 */
export async function mountBook(container, manifestUrl, options = {}) {
  const manifest = await fetchJson(manifestUrl);
  const pages = manifestPages(manifest);
  if (pages.length === 0) throw new Error('the manifest has no pages');
  const title = options.title || labelText(manifest.label, 'Book');
  let index = -1;

  const status = el('span', { class: 'tv-page-status', 'aria-live': 'polite' });
  const previous = el(
    'button',
    { type: 'button', class: 'tv-button', 'aria-label': 'Previous page', title: 'Previous page (PageUp or [)', 'aria-keyshortcuts': 'PageUp' },
    icon('previous'),
  );
  const next = el(
    'button',
    { type: 'button', class: 'tv-button', 'aria-label': 'Next page', title: 'Next page (PageDown or ])', 'aria-keyshortcuts': 'PageDown' },
    icon('next'),
  );
  const thumbs = pages.map((page, i) =>
    el(
      'li',
      {},
      el(
        'button',
        { type: 'button', class: 'tv-thumb', 'aria-label': `Page ${i + 1}: ${page.label}`, onclick: () => goTo(i) },
        el('img', { src: pageThumbnail(page), alt: '', loading: 'lazy', decoding: 'async' }),
        el('span', { class: 'tv-thumb-label', 'aria-hidden': 'true' }, String(i + 1)),
      ),
    ),
  );
  const strip = el('nav', { class: 'tv-strip', 'aria-label': 'Pages' }, el('ol', {}, thumbs));

  const go = (delta) => () => goTo(index + delta);
  const view = mountImageViewer(container, {
    title,
    backHref: options.backHref,
    manifestHref: manifestUrl,
    keyTarget: options.keyTarget || document,
    toolbarStart: [el('div', { class: 'tv-group', role: 'group', 'aria-label': 'Pages' }, previous, status, next)],
    after: [strip],
    shortcuts: {
      PageDown: go(1),
      PageUp: go(-1),
      ']': go(1),
      '[': go(-1),
      Home: () => goTo(0),
      End: () => goTo(pages.length - 1),
    },
    help: [
      ['PageDown or ]', 'Next page'],
      ['PageUp or [', 'Previous page'],
      ['Home, End', 'First, last page'],
    ],
  });
  previous.addEventListener('click', go(-1));
  next.addEventListener('click', go(1));

  function goTo(i) {
    const target = Math.max(0, Math.min(pages.length - 1, i));
    if (target === index) return;
    if (index >= 0) thumbs[index].firstChild.removeAttribute('aria-current');
    index = target;
    const button = thumbs[index].firstChild;
    button.setAttribute('aria-current', 'page');
    button.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
    status.textContent = `Page ${index + 1} of ${pages.length}`;
    previous.disabled = index === 0;
    next.disabled = index === pages.length - 1;
    view.open(pageTileSource(pages[index]));
    if (options.hash) history.replaceState(history.state, '', `#page=${index + 1}`);
  }

  const pageFromHash = () => {
    const match = /^#page=(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) - 1 : 0;
  };
  if (options.hash) window.addEventListener('hashchange', () => goTo(pageFromHash()));
  goTo(options.hash ? pageFromHash() : options.page || 0);

  return { ...view, pages, goTo, page: () => index };
}

// Run as the /book page (not when imported by the embed script).
const config = pageConfig();
if (config.page === 'book') {
  const app = document.getElementById('app');
  const external = new URLSearchParams(location.search).get('manifest');
  const manifestUrl = config.id ? siteUrl(`iiif/manifest/${encodeId(config.id)}`) : external;
  if (!manifestUrl) {
    app.append(el('p', { class: 'tv-message' }, 'Nothing to show: open /book/{folder}, or /book?manifest={URL}.'));
  } else {
    if (config.label) document.title = `${config.label} · Tessera`;
    const folder = config.id?.includes('/') ? config.id.slice(0, config.id.lastIndexOf('/')) : '';
    mountBook(app, manifestUrl, {
      title: config.label,
      hash: true,
      backHref: config.id ? siteUrl(folder ? `./?folder=${encodeURIComponent(folder)}` : './') : null,
    })
      .then((book) => (window.tessera = book))
      .catch((error) => app.append(el('p', { class: 'tv-message', role: 'alert' }, `Cannot open the book: ${error.message}`)));
  }
}
