#pragma once
// What every protocol endpoint does once it has a Query: open the image the
// identifier names, plan, render, encode, and dress the bytes as a Response.

#include <filesystem>
#include <memory>
#include <string_view>

#include "image/image_source.hpp"
#include "protocol/query.hpp"
#include "render/planner.hpp"
#include "serve/config.hpp"
#include "serve/request.hpp"
#include "serve/resolver.hpp"

namespace tessera {

struct OpenedImage {
  std::filesystem::path file;
  std::unique_ptr<ImageSource> source;
};

// Resolves the identifier under the image root and opens the file. Throws
// the resolver's and the reader's Errors (400, 403, 404, 500).
OpenedImage open_identifier(const Resolver& resolver, std::string_view identifier);

// The output limits configuration sets (MAX_CVT, MAX_AREA).
Limits configured_limits(const Config& config);

// Per-request changes to the configured encoding (IIP's QLT).
struct RenderOverrides {
  int jpeg_quality = -1;  // -1: JPEG_QUALITY
};

// Plans and renders `query` against the open image: a 200 response with the
// encoded bytes, their Content-Type and the file's Last-Modified. Throws the
// planner's Errors. `plan_out`, when given, receives the plan (for canonical
// links).
Response render_response(const Query& query, const OpenedImage& image, const Config& config,
                         const RenderOverrides& overrides = {}, Plan* plan_out = nullptr);

// Sets Last-Modified from the file.
void set_last_modified(Response& response, const std::filesystem::path& file);

// A response of `body` with `content_type`.
Response make_response(int status, std::string body, std::string_view content_type);

}  // namespace tessera
