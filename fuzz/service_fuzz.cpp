// libFuzzer target: any request, answered by the whole server
// (Service::handle) over a folder of real images (TESSERA_FUZZ_IMAGES, made
// by scripts/fuzz.sh). The input is a request as text:
//
//   GET /iiif/3/p.tif/0,0,256,256/max/0/default.jpg    (method, then target)
//   if-none-match: "abc"                                (header lines)
//
// Besides the sanitizers' findings, a reply that is not a well-formed error
// or answer stops the run: with sound images, a 500 is a request the server
// failed to refuse in words (a malformed URL must be a 4xx with a reason).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "serve/service.hpp"

namespace {

std::unique_ptr<tessera::Service> service;

tessera::Request parse(std::string_view text) {
  tessera::Request request;
  const auto line_end = text.find('\n');
  std::string_view line = text.substr(0, line_end);
  text = line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 1);
  const auto space = line.find(' ');
  request.method = space == std::string_view::npos ? "GET" : std::string(line.substr(0, space));
  const std::string_view target = space == std::string_view::npos ? line : line.substr(space + 1);
  const auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view header = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    std::string value(header.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    request.headers.emplace_back(std::string(header.substr(0, colon)), std::move(value));
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* root = std::getenv("TESSERA_FUZZ_IMAGES");
  if (root == nullptr) {
    std::fprintf(stderr, "service_fuzz: set TESSERA_FUZZ_IMAGES to a folder of images\n");
    std::exit(2);
  }
  tessera::Config config;
  config.image_root = root;
  config.verbosity = 0;
  // Outputs up to 1000 px: the same code as MAX_CVT's 5000, at a cost that
  // leaves time for more inputs (a 5000 px export takes seconds under ASan).
  config.max_cvt = 1000;
  service = std::make_unique<tessera::Service>(config);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tessera::Request request =
      parse(std::string_view(reinterpret_cast<const char*>(data), size));
  const tessera::Response response = service->handle(request);
  const bool known = (response.status >= 200 && response.status < 600);
  if (!known || response.status == 500) {
    std::fprintf(stderr, "service_fuzz: %s %s?%s answered %d: %.*s\n", request.method.c_str(),
                 request.path.c_str(), request.query.c_str(), response.status,
                 int(std::min<size_t>(response.content().size(), 300)), response.content().data());
    std::abort();
  }
  return 0;
}
