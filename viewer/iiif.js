// What the viewer needs of IIIF documents from any server: image services
// (Image API 2 or 3) and the pages of Presentation 2 or 3 manifests.

function first(value) {
  return Array.isArray(value) ? value[0] : value;
}

/** The text of a Presentation 3 language map or a Presentation 2 label. */
export function labelText(label, fallback = '') {
  if (label === null || label === undefined) return fallback;
  if (typeof label === 'string') return label;
  if (Array.isArray(label)) return labelText(label[0], fallback);
  if (typeof label === 'object') {
    if ('@value' in label) return String(label['@value']);
    const values = label.en || label.none || Object.values(label)[0];
    return Array.isArray(values) ? values.join(' ') : fallback;
  }
  return fallback;
}

function serviceOf(resource) {
  const services = [].concat(resource?.service || []);
  const isImage = (s) => {
    const type = s.type || s['@type'] || '';
    const profile = String(first(s.profile) || '');
    return /ImageService/.test(type) || profile.includes('iiif.io/api/image') || /^level[012]$/.test(profile);
  };
  // Prefer Image API 3, then any image service.
  const chosen =
    services.find((s) => (s.type || s['@type']) === 'ImageService3') || services.find(isImage);
  if (!chosen) return null;
  const id = (chosen.id || chosen['@id'] || '').replace(/\/info\.json$/, '').replace(/\/$/, '');
  const version = (chosen.type || chosen['@type']) === 'ImageService3' ? 3 : 2;
  return id ? { id, version } : null;
}

/**
 * The pages of a manifest (Presentation 3 or 2), each
 * {label, width, height, service: {id, version} | null, image: URL | null, thumbnail: URL | null}.
 */
export function manifestPages(manifest) {
  const pages = [];
  const push = (canvas, resource) => {
    const service = serviceOf(resource);
    const thumb = first(canvas.thumbnail);
    pages.push({
      label: labelText(canvas.label, String(pages.length + 1)),
      width: canvas.width,
      height: canvas.height,
      service,
      image: resource?.id || resource?.['@id'] || null,
      thumbnail: (thumb && (thumb.id || thumb['@id'] || thumb)) || null,
    });
  };
  if (Array.isArray(manifest.items)) {
    for (const canvas of manifest.items) {
      const annotation = canvas.items?.[0]?.items?.[0];
      push(canvas, first(annotation?.body));
    }
  } else if (Array.isArray(manifest.sequences)) {
    for (const canvas of manifest.sequences[0]?.canvases || []) {
      push(canvas, canvas.images?.[0]?.resource);
    }
  }
  return pages;
}

/** A thumbnail URL for a page, about `height` pixels high. */
export function pageThumbnail(page, height = 96) {
  // "!w,h" never asks for more than the image has (3.0 refuses upscaling).
  if (page.service) return `${page.service.id}/full/!${height * 3},${height}/0/default.jpg`;
  return page.thumbnail || page.image;
}

/** What OpenSeadragon opens for a page: the info.json, or the plain image. */
export function pageTileSource(page) {
  if (page.service) return `${page.service.id}/info.json`;
  return { type: 'image', url: page.image };
}

/** The physical size of one pixel in metres from a IIIF physdim service, or 0. */
export function physicalPixelSize(info) {
  const services = [].concat(info?.service || []);
  const physdim = services.find((s) => String(s.profile || '').includes('physdim'));
  if (!physdim || !(physdim.physicalScale > 0)) return 0;
  const unit = { in: 0.0254, cm: 0.01, mm: 0.001 }[physdim.physicalUnits];
  return unit ? physdim.physicalScale * unit : 0;
}
