#pragma once
// iipsrv's image sequences: views of a 3D object, or the bands of a
// multispectral set, each a file of its own. FIF names their common prefix
// and SDS=h,v a view, the file <prefix><FILENAME_PATTERN><hhh>_<vvv> (three
// digits each, and the file's extension): FZ1_pyr_010_090.tif.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

struct SequenceViews {
  std::vector<int> horizontal, vertical;  // the angles there are, ascending
  bool empty() const noexcept { return horizontal.empty(); }
};

// The identifier of view (h, v) of the sequence `prefix`.
std::string sequence_view_id(std::string_view prefix, std::string_view pattern, int h, int v);

// The views of the sequence whose files start with `stem` + `pattern` in
// `folder`: what IIP's OBJ=Horizontal-views and Vertical-views list. At most
// 100000 names are read.
SequenceViews sequence_views(const std::filesystem::path& folder, std::string_view stem,
                             std::string_view pattern);

}  // namespace tessera
