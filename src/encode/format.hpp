#pragma once
// The output formats a client can ask for (the IIIF Image API's list), named
// here rather than in protocol/ because encode/ sits below protocol/ and
// dispatches on them.

namespace tessera {

enum class Format { Jpeg, Png, Webp, Tiff, Gif, Jp2, Pdf };

// "jpg", "png", "webp", "tif", "gif", "jp2", "pdf": IIIF's extensions.
const char* format_extension(Format f) noexcept;
// "image/jpeg", ..., "application/pdf".
const char* format_media_type(Format f) noexcept;

}  // namespace tessera
