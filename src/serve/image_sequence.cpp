#include "serve/image_sequence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <system_error>

namespace tessera {

namespace {

// "010" of "010_090.tif": the digits before `end`, or -1.
int angle(std::string_view digits) {
  if (digits.empty() || digits.size() > 4) return -1;
  int value = -1;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc() && ptr == digits.data() + digits.size() ? value : -1;
}

}  // namespace

std::string sequence_view_id(std::string_view prefix, std::string_view pattern, int h, int v) {
  return fmt::format("{}{}{:03}_{:03}", prefix, pattern, h, v);
}

SequenceViews sequence_views(const std::filesystem::path& folder, std::string_view stem,
                             std::string_view pattern) {
  const std::string start = std::string(stem) + std::string(pattern);
  std::set<int> horizontal, vertical;
  std::error_code ec;
  std::filesystem::directory_iterator it(folder, ec), end;
  for (int read = 0; !ec && it != end && read < 100000; it.increment(ec), ++read) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(start)) continue;
    // <hhh>_<vvv>.<extension>
    const std::string_view rest = std::string_view(name).substr(start.size());
    const std::size_t underscore = rest.find('_'), dot = rest.find('.');
    if (underscore == std::string_view::npos || dot == std::string_view::npos || dot < underscore) {
      continue;
    }
    const int h = angle(rest.substr(0, underscore));
    const int v = angle(rest.substr(underscore + 1, dot - underscore - 1));
    if (h < 0 || v < 0) continue;
    horizontal.insert(h);
    vertical.insert(v);
  }
  return {{horizontal.begin(), horizontal.end()}, {vertical.begin(), vertical.end()}};
}

}  // namespace tessera
