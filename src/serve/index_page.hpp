#pragma once
// The page at "/": the images under the root, with links to each one's IIIF
// info.json and a preview. (The viewer issue replaces it with a gallery.)

#include <string>

#include "serve/resolver.hpp"

namespace tessera {

std::string render_index_page(const Resolver& resolver);

}  // namespace tessera
