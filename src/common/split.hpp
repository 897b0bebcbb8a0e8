#pragma once
// Lists in settings ("a, b c"): split on spaces, tabs and commas.

#include <algorithm>
#include <string_view>
#include <vector>

namespace tessera {

// The pieces of `text` between spaces, tabs and commas; empty ones dropped.
inline std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find_first_of(" \t,", start), text.size());
    if (end > start) pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return pieces;
}

}  // namespace tessera
