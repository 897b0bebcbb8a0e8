#include "serve/index_page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "protocol/percent.hpp"

namespace tessera {

namespace {

constexpr std::size_t kMaxListed = 1000;

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool has_image_extension(const std::filesystem::path& p) {
  const auto& exts = Resolver::image_extensions();
  return std::find(exts.begin(), exts.end(), p.extension().string()) != exts.end();
}

std::vector<std::string> list_images(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       it != end && ids.size() < kMaxListed; it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && has_image_extension(it->path())) {
      ids.push_back(fs::relative(it->path(), root, ec).generic_string());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

std::string render_index_page(const Resolver& resolver) {
  std::string rows;
  for (const std::string& id : list_images(resolver.root())) {
    const std::string url = "/iiif/3/" + percent_encode_path(id);
    rows += fmt::format(
        "<li><a href=\"{0}/full/!1024,1024/0/default.jpg\"><img src=\"{0}/full/!160,160/0/"
        "default.jpg\" alt=\"\" loading=\"lazy\"></a> {1} — <a href=\"{0}/info.json\">info.json</a>"
        "</li>\n",
        html_escape(url), html_escape(id));
  }
  if (rows.empty()) rows = "<li>No images in this folder.</li>\n";
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tessera</title>"
      "<style>body{{font-family:sans-serif;margin:2em}}li{{list-style:none;margin:.5em 0}}"
      "img{{vertical-align:middle;margin-right:1em}}</style></head>\n<body><h1>Tessera</h1>\n"
      "<p>Images served over IIIF Image API 3.0 at <code>/iiif/3/{{id}}/…</code>.</p>\n<ul>\n{}"
      "</ul>\n</body></html>\n",
      rows);
}

}  // namespace tessera
