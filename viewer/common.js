// Helpers shared by every page: the data the server put in the page, URLs
// relative to the server's root (the page's <base>), and DOM building.

/** The page's data from the server (see src/serve/viewer_endpoint.cpp). */
export function pageConfig() {
  const block = document.getElementById('tessera-config');
  return block ? JSON.parse(block.textContent) : {};
}

/** An absolute URL for a path relative to the server's root. */
export function siteUrl(path, base = document.baseURI) {
  return new URL(path, base).href;
}

/** An identifier as a URL path: each segment encoded, slashes kept. */
export function encodeId(id) {
  return id.split('/').map(encodeURIComponent).join('/');
}

/** The IIIF Image API 3.0 service of one of this server's images. */
export function imageService(id, base = document.baseURI) {
  return siteUrl(`iiif/3/${encodeId(id)}`, base);
}

export async function fetchJson(url, options = {}) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, ...options });
  if (!response.ok) {
    const reason = (await response.text()).trim();
    throw new Error(`${response.status} ${reason || response.statusText}`);
  }
  return response.json();
}

/**
 * Creates an element: el('a', {href: 'x', class: 'y', onclick: f}, 'text', child).
 * Attributes starting with "on" become listeners; false and null are left out.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** True when a key press belongs to a text field or control, not to a shortcut. */
export function isTypingTarget(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  return ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function formatNumber(n) {
  return Number(n).toLocaleString('en-US');
}

/** Runs `fn` once calls have stopped for `ms` milliseconds. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
