#include "serve/viewer_endpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "protocol/iiif_manifest.hpp"
#include "protocol/percent.hpp"
#include "serve/entity_tag.hpp"
#include "serve/image_catalog.hpp"
#include "serve/public_url.hpp"
#include "serve/viewer_assets.hpp"

namespace tessera {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kDefaultPageSize = 48;
constexpr std::size_t kMaxPageSize = 200;
// A manifest opens every page for its size; beyond this a book is refused
// rather than made into a request that takes minutes.
constexpr std::size_t kMaxManifestPages = 5000;
constexpr std::size_t kMaxSearchText = 200;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// File names and TIFF tags need not be UTF-8; JSON must be.
std::string dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Response make_response(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", std::move(content_type));
  return response;
}

std::string_view media_type(std::string_view path) {
  if (ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (ends_with(path, ".js") || ends_with(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (ends_with(path, ".png")) return "image/png";
  if (ends_with(path, ".svg")) return "image/svg+xml";
  if (ends_with(path, ".json")) return "application/json";
  return "application/octet-stream";
}

const ViewerAsset* find_asset(std::string_view path) {
  const auto assets = viewer_assets();
  const auto it =
      std::lower_bound(assets.begin(), assets.end(), path,
                       [](const ViewerAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

Response serve_asset(const Request& request, std::string_view path) {
  const ViewerAsset* asset = find_asset(path);
  // The HTML files are templates, only served filled in as pages.
  if (asset == nullptr || ends_with(path, ".html")) {
    not_found(fmt::format("no viewer file '{}'", quote_for_reason(path)));
  }
  Response response;
  if (if_none_match_matches(request.header("if-none-match"), asset->etag)) {
    response.status = 304;
  } else {
    response.body = std::string(asset->data);
    response.set_header("Content-Type", std::string(media_type(path)));
  }
  // Revalidated every time, so a new binary's files are never mixed with an
  // old one's from a browser cache.
  response.set_header("Cache-Control", "no-cache");
  response.set_header("ETag", std::string(asset->etag));
  return response;
}

// "../" once per folder level of `path`, so that the page's relative URLs
// reach the server's root whatever path a proxy mounts it under.
std::string relative_base(std::string_view path) {
  const std::size_t depth = std::count(path.begin(), path.end(), '/');
  if (depth <= 1) return "./";
  std::string base;
  for (std::size_t i = 1; i < depth; ++i) base += "../";
  return base;
}

std::string html_attribute(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A page: the HTML template with its placeholder replaced by the base and
// the page's data.
Response render_page(const Request& request, std::string_view file, const Json& data) {
  const ViewerAsset* asset = find_asset(file);
  if (asset == nullptr) {
    throw Error(500, fmt::format("the viewer was not built into this binary (no {})", file));
  }
  std::string json = dump(data);
  // '<' only occurs inside JSON strings, where \u003c means the same and
  // cannot close the script element.
  std::string safe;
  for (char c : json) safe += c == '<' ? std::string("\\u003c") : std::string(1, c);
  const std::string head = fmt::format(
      "<base href=\"{}\">\n<script type=\"application/json\" id=\"tessera-config\">{}</script>",
      html_attribute(relative_base(request.path)), safe);
  std::string html(asset->data);
  constexpr std::string_view kPlaceholder = "<!-- tessera:head -->";
  if (const std::size_t at = html.find(kPlaceholder); at != std::string::npos) {
    html.replace(at, kPlaceholder.size(), head);
  }
  Response response = make_response(200, std::move(html), "text/html; charset=utf-8");
  response.set_header("Cache-Control", "no-cache");
  return response;
}

std::string strip_slashes(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  return std::string(s);
}

std::string last_segment(std::string_view id) {
  const std::size_t slash = id.rfind('/');
  return std::string(slash == std::string_view::npos ? id : id.substr(slash + 1));
}

// --- pages -------------------------------------------------------------------

// Whether a file's resolution was measured rather than written by default:
// 72 and 96 dpi are what most software records when it knows nothing, and
// 25.4 dpi (10 pixels/cm) is libvips's default. A scale bar drawn from those
// would be wrong by orders of magnitude.
bool measured_resolution(double dpi) {
  if (!(dpi > 0)) return false;
  for (const double placeholder : {72.0, 96.0, 25.4}) {
    if (std::abs(dpi - placeholder) < 0.01) return false;
  }
  return true;
}

Response view_page(const Request& request, const Resolver& resolver, std::string_view encoded) {
  const std::string id = percent_decode(strip_slashes(encoded));
  const std::unique_ptr<ImageSource> source = open_image(resolver.resolve(id));
  const ImageInfo& info = source->info();
  Json data{{"page", "view"},
            {"id", id},
            {"name", last_segment(id)},
            {"width", info.width},
            {"height", info.height}};
  if (measured_resolution(info.dpi_x)) {
    data["dpi"] = Json::array({info.dpi_x, info.dpi_y > 0 ? info.dpi_y : info.dpi_x});
  }
  return render_page(request, "view.html", data);
}

bool is_image(const Resolver& resolver, const std::string& id) {
  try {
    resolver.resolve(id);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// /compare/{id1}/{id2}: ids may hold raw slashes, so every split of the
// segments is tried, leftmost first, until both halves name images.
Response compare_page(const Request& request, const Resolver& resolver, std::string_view rest) {
  const std::string_view path = rest.substr(0, rest.find_last_not_of('/') + 1);
  std::vector<std::size_t> slashes;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/') slashes.push_back(i);
  }
  if (slashes.empty()) bad_request("compare needs two image ids: /compare/{id1}/{id2}");
  if (slashes.size() > 64) bad_request("compare path has too many segments");
  for (const std::size_t at : slashes) {
    std::string first = percent_decode(path.substr(0, at));
    std::string second = percent_decode(path.substr(at + 1));
    if (is_image(resolver, first) && is_image(resolver, second)) {
      return render_page(request, "compare.html",
                         Json{{"page", "compare"}, {"ids", Json::array({first, second})}});
    }
  }
  not_found(fmt::format("'{}' does not name two images", quote_for_reason(path)));
}

Response book_page(const Request& request, const Resolver& resolver, std::string_view encoded) {
  const Sequence sequence = find_sequence(resolver, percent_decode(strip_slashes(encoded)));
  return render_page(request, "book.html",
                     Json{{"page", "book"},
                          {"id", sequence.id},
                          {"label", sequence.label},
                          {"pages", sequence.pages.size()}});
}

// --- the gallery's API ---------------------------------------------------------

struct Params {
  std::string folder, q;
  std::size_t offset = 0, limit = kDefaultPageSize;
};

std::size_t parse_count(std::string_view name, std::string_view value, std::size_t max) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) {
    bad_request(fmt::format("{} must be a whole number, not '{}'", name, quote_for_reason(value)));
  }
  return std::min(n, max);
}

Params parse_params(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode_query(pair.substr(eq + 1));
    if (key == "folder") {
      params.folder = strip_slashes(value);
    } else if (key == "q") {
      params.q = value.substr(0, kMaxSearchText);
    } else if (key == "offset") {
      params.offset = parse_count(key, value, 1'000'000'000);
    } else if (key == "limit") {
      params.limit = std::max<std::size_t>(1, parse_count(key, value, kMaxPageSize));
    }
  }
  return params;
}

Json entry_json(const CatalogEntry& entry, const Resolver& resolver) {
  switch (entry.kind) {
    case EntryKind::Folder:
      return Json{
          {"type", "folder"}, {"id", entry.id}, {"name", entry.name}, {"folder", entry.folder}};
    case EntryKind::Sequence:
      return Json{{"type", "sequence"},     {"id", entry.id},       {"name", entry.name},
                  {"folder", entry.folder}, {"pages", entry.pages}, {"first", entry.first_page}};
    case EntryKind::Image:
      break;
  }
  Json j{{"type", "image"}, {"id", entry.id}, {"name", entry.name}, {"folder", entry.folder}};
  // Only the images of the page asked for are opened, for their size.
  try {
    const std::unique_ptr<ImageSource> source = open_image(resolver.resolve(entry.id));
    const ImageInfo& info = source->info();
    j["width"] = info.width;
    j["height"] = info.height;
    j["format"] = info.format;
    j["levels"] = info.levels.size();
    j["bands"] = info.bands;
  } catch (const std::exception& e) {
    j["error"] = e.what();
  }
  return j;
}

Response images_api(const Request& request, const Resolver& resolver) {
  const Params params = parse_params(request.query);
  const CatalogListing listing = params.q.empty()
                                     ? list_folder(resolver, params.folder)
                                     : search_catalog(resolver, params.folder, params.q);
  Json items = Json::array();
  const std::size_t total = listing.entries.size();
  const std::size_t end = std::min(total, params.offset + params.limit);
  for (std::size_t i = params.offset; i < end; ++i) {
    items.push_back(entry_json(listing.entries[i], resolver));
  }
  Json j{{"folder", params.folder},  {"q", params.q},  {"offset", params.offset},
         {"limit", params.limit},    {"total", total}, {"truncated", listing.truncated},
         {"items", std::move(items)}};
  Response response = make_response(200, dump(j), "application/json");
  response.set_header("Cache-Control", "no-cache");
  return response;
}

// --- manifests -------------------------------------------------------------------

Response manifest(const Request& request, const Config& config, const Resolver& resolver,
                  std::string_view encoded) {
  const std::string id = percent_decode(strip_slashes(encoded));
  const std::string origin = public_origin(request, config);
  ManifestOptions options;
  options.id = origin + "/iiif/manifest/" + percent_encode_path(id);
  options.image_base = origin + "/iiif";
  options.rights = config.rights;
  options.attribution = config.copyright;
  options.max_width = config.max_cvt;
  options.max_height = config.max_cvt;
  options.max_area = config.max_area;

  std::vector<ManifestCanvas> canvases;
  std::optional<std::filesystem::path> file;
  try {
    file = resolver.resolve(id);
  } catch (const Error& e) {
    if (e.status() != 404) throw;
  }
  if (file) {
    const std::unique_ptr<ImageSource> source = open_image(*file);
    const ImageInfo& info = source->info();
    options.label = last_segment(id);
    options.homepage = origin + "/view/" + percent_encode_path(id);
    for (const auto& [key, value] : info.metadata) options.metadata.emplace_back(key, value);
    canvases.push_back({id, options.label, info.width, info.height});
  } else {
    const Sequence sequence = find_sequence(resolver, id);
    if (sequence.pages.size() > kMaxManifestPages) {
      throw Error(413, fmt::format("sequence '{}' has more than {} pages", quote_for_reason(id),
                                   kMaxManifestPages));
    }
    options.label = sequence.label;
    options.homepage = origin + "/book/" + percent_encode_path(id);
    for (const std::string& page : sequence.pages) {
      // A page that cannot be read is left out rather than failing the book.
      try {
        const std::unique_ptr<ImageSource> source = open_image(resolver.resolve(page));
        canvases.push_back({page, last_segment(page), source->info().width, source->info().height});
      } catch (const std::exception&) {
      }
    }
    if (canvases.empty()) not_found(fmt::format("no readable image in '{}'", quote_for_reason(id)));
  }

  constexpr std::string_view kContext = "http://iiif.io/api/presentation/3/context.json";
  const bool wants_ld = request.header("accept").find("application/ld+json") != std::string::npos;
  return make_response(
      200, describe_manifest(options, canvases),
      wants_ld ? fmt::format("application/ld+json;profile=\"{}\"", kContext) : "application/json");
}

}  // namespace

bool is_viewer_page(std::string_view path) {
  return path == "/" || path == "/index.html" || path == "/api/images" ||
         starts_with(path, "/iiif/manifest/") || path == "/view" || starts_with(path, "/view/") ||
         starts_with(path, "/compare/") || path == "/book" || starts_with(path, "/book/");
}

std::optional<Response> handle_viewer(const Request& request, const Config& config,
                                      const Resolver& resolver) {
  const std::string_view path = request.path;
  if (path == "/" || path == "/index.html") {
    return render_page(request, "gallery.html", Json{{"page", "gallery"}});
  }
  if (starts_with(path, "/viewer/")) return serve_asset(request, path.substr(8));
  if (path == "/api/images") return images_api(request, resolver);
  if (starts_with(path, "/iiif/manifest/"))
    return manifest(request, config, resolver, path.substr(15));
  // Without an id the pages show what their query names (any IIIF server).
  if (path == "/view" || path == "/view/") {
    return render_page(request, "view.html", Json{{"page", "view"}});
  }
  if (starts_with(path, "/view/")) return view_page(request, resolver, path.substr(6));
  if (starts_with(path, "/compare/")) return compare_page(request, resolver, path.substr(9));
  if (path == "/book" || path == "/book/") {
    return render_page(request, "book.html", Json{{"page", "book"}});
  }
  if (starts_with(path, "/book/")) return book_page(request, resolver, path.substr(6));
  return std::nullopt;
}

}  // namespace tessera
