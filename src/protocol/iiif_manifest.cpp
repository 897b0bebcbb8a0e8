#include "protocol/iiif_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "protocol/percent.hpp"

namespace tessera {

namespace {

using Json = nlohmann::ordered_json;

Json language_map(const std::string& text) { return Json{{"none", Json::array({text})}}; }

// The size "full/max" answers under the limits, rounded as the planner does.
std::pair<uint32_t, uint32_t> max_size(const ManifestOptions& o, uint32_t w, uint32_t h) {
  double scale = 1.0;
  if (o.max_width != 0) scale = std::min(scale, double(o.max_width) / w);
  if (o.max_height != 0) scale = std::min(scale, double(o.max_height) / h);
  if (o.max_area != 0) scale = std::min(scale, std::sqrt(double(o.max_area) / (double(w) * h)));
  if (scale >= 1.0) return {w, h};
  return {std::max<uint32_t>(1, uint32_t(std::floor(w * scale + 1e-9))),
          std::max<uint32_t>(1, uint32_t(std::floor(h * scale + 1e-9)))};
}

Json canvas_json(const ManifestOptions& o, const ManifestCanvas& c, std::size_t number) {
  const std::string canvas_id = fmt::format("{}/canvas/{}", o.id, number);
  const std::string encoded = percent_encode_path(c.image_id);
  const std::string service3 = fmt::format("{}/3/{}", o.image_base, encoded);
  const std::string service2 = fmt::format("{}/2/{}", o.image_base, encoded);
  const auto [body_w, body_h] = max_size(o, c.width, c.height);

  Json body{{"id", service3 + "/full/max/0/default.jpg"},
            {"type", "Image"},
            {"format", "image/jpeg"},
            {"width", body_w},
            {"height", body_h},
            {"service",
             Json::array({Json{{"id", service3}, {"type", "ImageService3"}, {"profile", "level2"}},
                          Json{{"@id", service2},
                               {"@type", "ImageService2"},
                               {"profile", "http://iiif.io/api/image/2/level2.json"}}})}};
  Json annotation{{"id", canvas_id + "/page/image"},
                  {"type", "Annotation"},
                  {"motivation", "painting"},
                  {"body", std::move(body)},
                  {"target", canvas_id}};
  return Json{{"id", canvas_id},
              {"type", "Canvas"},
              {"label", language_map(c.label)},
              {"width", c.width},
              {"height", c.height},
              {"thumbnail", Json::array({Json{{"id", service3 + "/full/!200,200/0/default.jpg"},
                                              {"type", "Image"},
                                              {"format", "image/jpeg"}}})},
              {"items", Json::array({Json{{"id", canvas_id + "/page"},
                                          {"type", "AnnotationPage"},
                                          {"items", Json::array({std::move(annotation)})}}})}};
}

}  // namespace

std::string describe_manifest(const ManifestOptions& options,
                              std::span<const ManifestCanvas> canvases) {
  Json j{{"@context", "http://iiif.io/api/presentation/3/context.json"},
         {"id", options.id},
         {"type", "Manifest"},
         {"label", language_map(options.label)}};
  if (!options.metadata.empty()) {
    Json metadata = Json::array();
    for (const auto& [label, value] : options.metadata) {
      metadata.push_back(
          Json{{"label", Json{{"en", Json::array({label})}}}, {"value", language_map(value)}});
    }
    j["metadata"] = std::move(metadata);
  }
  if (!options.attribution.empty()) {
    j["requiredStatement"] = Json{{"label", Json{{"en", Json::array({"Attribution"})}}},
                                  {"value", language_map(options.attribution)}};
  }
  if (!options.rights.empty()) j["rights"] = options.rights;
  if (!canvases.empty()) {
    const std::string encoded = percent_encode_path(canvases.front().image_id);
    j["thumbnail"] = Json::array({Json{
        {"id", fmt::format("{}/3/{}/full/!200,200/0/default.jpg", options.image_base, encoded)},
        {"type", "Image"},
        {"format", "image/jpeg"}}});
  }
  if (!options.homepage.empty()) {
    j["homepage"] = Json::array({Json{{"id", options.homepage},
                                      {"type", "Text"},
                                      {"label", language_map(options.label)},
                                      {"format", "text/html"}}});
  }
  Json items = Json::array();
  for (std::size_t i = 0; i < canvases.size(); ++i) {
    items.push_back(canvas_json(options, canvases[i], i + 1));
  }
  j["items"] = std::move(items);
  return j.dump(2);
}

}  // namespace tessera
