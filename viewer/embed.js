// Puts Tessera's viewer on any page, for images of any IIIF Image API server
// or the pages of any IIIF manifest:
//
//   <div id="scan" style="height: 600px"></div>
//   <script src="https://images.example.org/viewer/embed.js"></script>
//   <script>
//     Tessera.embed('#scan', 'https://iiif.example.org/iiif/3/scan/info.json');
//     // or Tessera.embed('#book', { manifest: 'https://…/manifest.json' });
//   </script>
//
// A classic script, so that the host page needs no module set-up; it loads
// OpenSeadragon (unless the page has it), the stylesheet and the viewer's
// modules from the server it came from. Options: title (the toolbar's
// heading), dpi (draws a scale bar), page (a book's first page, from 0).
// embed() returns a promise of the viewer ({viewer, root, ...}); `viewer` is
// the OpenSeadragon viewer.
(function () {
  const script = document.currentScript;
  const base = new URL('.', script ? script.src : document.baseURI).href;
  let ready = null;

  function load(tag, attributes) {
    return new Promise((resolve, reject) => {
      const element = document.createElement(tag);
      Object.assign(element, attributes);
      element.onload = resolve;
      element.onerror = () => reject(new Error(`cannot load ${attributes.src || attributes.href}`));
      document.head.append(element);
    });
  }

  function prepare() {
    ready ||= Promise.all([
      load('link', { rel: 'stylesheet', href: `${base}style.css` }),
      window.OpenSeadragon ? null : load('script', { src: `${base}openseadragon/openseadragon.min.js` }),
    ]);
    return ready;
  }

  async function embed(target, source, options = {}) {
    const element = typeof target === 'string' ? document.querySelector(target) : target;
    if (!element) throw new Error(`no element ${target}`);
    const what = typeof source === 'string' ? { iiif: source, ...options } : { ...source, ...options };
    await prepare();
    element.classList.add('tv-embed');
    if (what.manifest) {
      const { mountBook } = await import(`${base}book.js`);
      return mountBook(element, what.manifest, { keyTarget: element, title: what.title, page: what.page });
    }
    if (!what.iiif) throw new Error('embed needs an info.json URL or { manifest: URL }');
    const { mountImageViewer } = await import(`${base}image-viewer.js`);
    const service = what.iiif.replace(/\/info\.json$/, '').replace(/\/$/, '');
    return mountImageViewer(element, {
      tileSource: `${service}/info.json`,
      title: what.title || '',
      keyTarget: element,
      metresPerPixel: what.dpi ? 0.0254 / what.dpi : 0,
    });
  }

  window.Tessera = Object.assign(window.Tessera || {}, { embed });
})();
