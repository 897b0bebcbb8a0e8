#include "protocol/query.hpp"

namespace tessera {

const char* quality_name(Quality q) noexcept {
  switch (q) {
    case Quality::Default:
      return "default";
    case Quality::Color:
      return "color";
    case Quality::Gray:
      return "gray";
    case Quality::Bitonal:
      return "bitonal";
  }
  return "default";
}

}  // namespace tessera
