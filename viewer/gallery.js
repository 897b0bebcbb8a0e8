// "/": the images under the root, a page at a time. Folders are collections
// (open them, or open one as a book), numbered files are sequences, and the
// search box filters by name below the current folder. The state lives in
// the query string (?folder=&q=&page=), so that the back button and links
// work; the API (/api/images) opens only the images of the page shown.
import { icon } from './controls.js';
import { debounce, el, encodeId, fetchJson, formatNumber, imageService, siteUrl } from './common.js';

const DEFAULT_LIMIT = 48;
const THUMB = 240;

const crumbs = el('ol');
const search = el('input', {
  type: 'search',
  id: 'tg-q',
  name: 'q',
  placeholder: 'Search by name',
  autocomplete: 'off',
  spellcheck: 'false',
});
const count = el('p', { class: 'tg-count', 'aria-live': 'polite' });
const grid = el('ul', { class: 'tg-grid', 'aria-busy': 'true', 'aria-label': 'Images' });
const previous = el('button', { type: 'button', class: 'tv-button tv-text' }, '← Previous');
const next = el('button', { type: 'button', class: 'tv-button tv-text' }, 'Next →');
const pageStatus = el('span', { class: 'tg-page-status' });
const pager = el('nav', { class: 'tg-pages', 'aria-label': 'Result pages' }, previous, pageStatus, next);
const picked = [];
const compareText = el('span');
const compareLink = el('a', { class: 'tv-link' }, 'Compare');
const compareBar = el(
  'div',
  { class: 'tg-compare', hidden: true, role: 'region', 'aria-label': 'Comparison' },
  compareText,
  compareLink,
  el('button', { type: 'button', class: 'tv-button tv-text', onclick: () => clearPicks() }, 'Clear'),
);

document.getElementById('app').append(
  el(
    'div',
    { class: 'tg' },
    el(
      'header',
      { class: 'tg-bar' },
      el('h1', {}, el('a', { href: siteUrl('./') }, 'Tessera')),
      el('nav', { class: 'tg-crumbs', 'aria-label': 'Folders' }, crumbs),
      el(
        'form',
        { class: 'tg-search', role: 'search', onsubmit: (e) => (e.preventDefault(), applySearch()) },
        el('label', { for: 'tg-q', class: 'tv-sr' }, 'Search images by name'),
        search,
      ),
    ),
    el('main', { class: 'tg-main' }, count, grid, pager),
    compareBar,
  ),
);

function readState() {
  const params = new URLSearchParams(location.search);
  return {
    folder: (params.get('folder') || '').replace(/^\/+|\/+$/g, ''),
    q: params.get('q') || '',
    page: Math.max(1, Number.parseInt(params.get('page') || '1', 10) || 1),
    limit: Math.max(1, Math.min(200, Number.parseInt(params.get('limit') || '', 10) || DEFAULT_LIMIT)),
  };
}

let state = readState();

function stateUrl(next) {
  const params = new URLSearchParams();
  if (next.folder) params.set('folder', next.folder);
  if (next.q) params.set('q', next.q);
  if (next.page > 1) params.set('page', String(next.page));
  if (next.limit !== DEFAULT_LIMIT) params.set('limit', String(next.limit));
  const query = params.toString();
  return siteUrl(query ? `./?${query}` : './');
}

function navigate(changes, { replace = false } = {}) {
  state = { ...state, ...changes };
  history[replace ? 'replaceState' : 'pushState'](null, '', stateUrl(state));
  load();
}

// Links inside the gallery change the state without reloading the page.
function folderLink(folder, text, attributes = {}) {
  const href = stateUrl({ ...state, folder, q: '', page: 1 });
  return el(
    'a',
    {
      href,
      ...attributes,
      onclick: (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        search.value = '';
        navigate({ folder, q: '', page: 1 });
      },
    },
    text,
  );
}

function renderCrumbs() {
  const parts = state.folder ? state.folder.split('/') : [];
  const items = [el('li', {}, folderLink('', 'All images'))];
  parts.forEach((part, i) => {
    const folder = parts.slice(0, i + 1).join('/');
    const current = i === parts.length - 1;
    items.push(el('li', {}, folderLink(folder, part, current ? { 'aria-current': 'page' } : {})));
  });
  crumbs.replaceChildren(...items);
}

function thumbnail(id, width, height) {
  const attributes = { src: `${imageService(id)}/full/!${THUMB},${THUMB}/0/default.jpg`, alt: '', loading: 'lazy', decoding: 'async' };
  if (width > 0 && height > 0) {
    const scale = Math.min(1, THUMB / width, THUMB / height);
    attributes.width = Math.max(1, Math.round(width * scale));
    attributes.height = Math.max(1, Math.round(height * scale));
  }
  return el('img', attributes);
}

function pickButton(item) {
  const pressed = picked.some((p) => p.id === item.id);
  return el(
    'button',
    {
      type: 'button',
      class: 'tv-button tv-text tg-pick',
      'aria-pressed': String(pressed),
      'aria-label': `Compare ${item.name}`,
      onclick: (event) => togglePick(item, event.currentTarget),
    },
    'Compare',
  );
}

function card(item) {
  const where = state.q && item.folder ? el('span', { class: 'tg-where' }, item.folder) : null;
  if (item.type === 'folder') {
    return el(
      'li',
      { class: 'tg-card tg-folder', dataset: { type: 'folder', id: item.id } },
      folderLink(item.id, [el('span', { class: 'tg-icon' }, icon('folder')), el('span', { class: 'tg-name' }, item.name)], { class: 'tg-open' }),
      el('span', { class: 'tg-meta' }, 'Collection'),
      where,
      el('a', { class: 'tv-link tg-book', href: siteUrl(`book/${encodeId(item.id)}`), 'aria-label': `Open ${item.name} as a book` }, 'Open as book'),
    );
  }
  if (item.type === 'sequence') {
    return el(
      'li',
      { class: 'tg-card', dataset: { type: 'sequence', id: item.id } },
      el('a', { class: 'tg-open', href: siteUrl(`book/${encodeId(item.id)}`) }, el('span', { class: 'tg-thumb' }, thumbnail(item.first)), el('span', { class: 'tg-name' }, `${item.name}…`)),
      el('span', { class: 'tg-meta' }, `Sequence of ${formatNumber(item.pages)} pages`),
    );
  }
  const meta = item.error
    ? `Cannot be read: ${item.error}`
    : `${formatNumber(item.width)} × ${formatNumber(item.height)} px · ${String(item.format).toUpperCase()}`;
  return el(
    'li',
    { class: `tg-card${item.error ? ' tg-broken' : ''}`, dataset: { type: 'image', id: item.id } },
    el(
      'a',
      { class: 'tg-open', href: siteUrl(`view/${encodeId(item.id)}`) },
      el('span', { class: 'tg-thumb' }, item.error ? null : thumbnail(item.id, item.width, item.height)),
      el('span', { class: 'tg-name' }, item.name),
    ),
    el('span', { class: 'tg-meta' }, meta),
    where,
    item.error ? null : pickButton(item),
  );
}

function togglePick(item, button) {
  const at = picked.findIndex((p) => p.id === item.id);
  if (at >= 0) picked.splice(at, 1);
  else {
    picked.push(item);
    if (picked.length > 2) picked.shift();
  }
  for (const b of grid.querySelectorAll('.tg-pick')) {
    const id = b.closest('li').dataset.id;
    b.setAttribute('aria-pressed', String(picked.some((p) => p.id === id)));
  }
  renderCompare();
  button.focus();
}

function clearPicks() {
  picked.length = 0;
  for (const b of grid.querySelectorAll('.tg-pick')) b.setAttribute('aria-pressed', 'false');
  renderCompare();
}

function renderCompare() {
  compareBar.hidden = picked.length === 0;
  if (picked.length === 1) {
    compareText.textContent = `Compare ${picked[0].name} with… (pick another image)`;
    compareLink.hidden = true;
  } else if (picked.length === 2) {
    compareText.textContent = `${picked[0].name} and ${picked[1].name}`;
    compareLink.hidden = false;
    compareLink.href = siteUrl(`compare/${encodeId(picked[0].id)}/${encodeId(picked[1].id)}`);
  }
}

let loading = 0;
async function load() {
  const ticket = ++loading;
  renderCrumbs();
  if (search.value !== state.q) search.value = state.q;
  grid.setAttribute('aria-busy', 'true');
  const params = new URLSearchParams({
    folder: state.folder,
    q: state.q,
    offset: String((state.page - 1) * state.limit),
    limit: String(state.limit),
  });
  let result;
  try {
    result = await fetchJson(siteUrl(`api/images?${params}`));
  } catch (error) {
    if (ticket !== loading) return;
    grid.replaceChildren();
    count.textContent = `Cannot list the images: ${error.message}`;
    grid.setAttribute('aria-busy', 'false');
    return;
  }
  if (ticket !== loading) return; // a newer request is on its way
  grid.replaceChildren(...result.items.map(card));
  const pages = Math.max(1, Math.ceil(result.total / state.limit));
  const first = result.total === 0 ? 0 : result.offset + 1;
  const last = result.offset + result.items.length;
  const what = state.q ? `matching “${state.q}”` : state.folder ? `in ${state.folder}` : '';
  count.textContent =
    result.total === 0
      ? `Nothing ${what || 'here'}.`
      : `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(result.total)} ${what}${result.truncated ? ' (the folder is too large to list in full)' : ''}`.trim();
  pageStatus.textContent = `Page ${state.page} of ${pages}`;
  previous.disabled = state.page <= 1;
  next.disabled = state.page >= pages;
  pager.hidden = pages <= 1;
  grid.setAttribute('aria-busy', 'false');
  document.title = state.folder ? `${state.folder} · Tessera` : 'Tessera';
}

function applySearch() {
  const q = search.value.trim();
  if (q !== state.q) navigate({ q, page: 1 }, { replace: true });
}

search.addEventListener('input', debounce(applySearch, 250));
previous.addEventListener('click', () => navigate({ page: state.page - 1 }));
next.addEventListener('click', () => navigate({ page: state.page + 1 }));
window.addEventListener('popstate', () => {
  state = readState();
  load();
});

load();
window.tessera = { reload: load, state: () => state };
