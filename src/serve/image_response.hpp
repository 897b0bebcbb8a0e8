#pragma once
// What every protocol endpoint does once it has a Query: find the image the
// identifier names, plan, and answer from the response cache or render
// (through the tile cache) and encode, dressing the bytes as a Response.

#include <filesystem>
#include <memory>
#include <string_view>

#include "image/image_info.hpp"
#include "protocol/query.hpp"
#include "render/planner.hpp"
#include "serve/file_info.hpp"
#include "serve/request.hpp"
#include "serve/serve_context.hpp"

namespace tessera {

// An image found under the root: its file, the file's identity now, and its
// metadata (from the image cache; no source is held).
struct OpenedImage {
  std::filesystem::path file;
  FileIdentity identity;
  std::shared_ptr<const ImageInfo> info;
};

// The file an identifier names: under the image root, through iipsrv's
// FILESYSTEM_PREFIX / FILESYSTEM_SUFFIX when they are set.
ResolvedFile resolve_identifier(const ServeContext& context, std::string_view identifier);

// Resolves the identifier under the image root and reads the file's
// metadata. Throws the resolver's and the reader's Errors (400, 403, 404, 500).
OpenedImage open_identifier(const ServeContext& context, std::string_view identifier);
// The same for a file already resolved.
OpenedImage open_file(const ServeContext& context, const ResolvedFile& file);

// The output limits configuration sets (MAX_CVT, MAX_AREA).
Limits configured_limits(const Config& config);

// Per-request changes to the configured encoding (IIP's QLT).
struct RenderOverrides {
  int jpeg_quality = -1;  // -1: JPEG_QUALITY
  int layers = 0;         // LYR: JPEG 2000 quality layers; 0: MAX_LAYERS decides
};

// Plans `query` against the image and answers it: a 200 response with the
// encoded bytes, their Content-Type and the file's Last-Modified, from the
// response cache when the same plan of the same file was rendered before.
// Throws the planner's and the reader's Errors. `plan_out`, when given,
// receives the plan (for canonical links).
Response render_response(const Query& query, const OpenedImage& image, const ServeContext& context,
                         const RenderOverrides& overrides = {}, Plan* plan_out = nullptr);

// Sets Last-Modified from the file, unless the response has it already.
void set_last_modified(Response& response, const OpenedImage& image);

// A response of `body` with `content_type`.
Response make_response(int status, std::string body, std::string_view content_type);

}  // namespace tessera
