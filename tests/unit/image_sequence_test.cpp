// Image sequences: the views' files, named as iipsrv names them.

#include "serve/image_sequence.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;

TEST(ImageSequence, ViewNamesHaveThreeDigitAngles) {
  EXPECT_EQ(sequence_view_id("objects/FZ1", "_pyr_", 10, 90), "objects/FZ1_pyr_010_090");
  EXPECT_EQ(sequence_view_id("a", "-", 0, 0), "a-000_000");
  EXPECT_EQ(sequence_view_id("a", "_pyr_", 350, 1000), "a_pyr_350_1000");
}

TEST(ImageSequence, TheViewsAreTheFilesAngles) {
  const fs::path dir = testing::make_temp_dir("tessera-sequence");
  for (const char* name : {"FZ1_pyr_000_090.tif", "FZ1_pyr_010_090.tif", "FZ1_pyr_350_080.tif",
                           "FZ1_pyr_010_080.jp2", "FZ1_pyr_x_090.tif", "FZ1_pyr_020.tif",
                           "FZ2_pyr_040_090.tif", "FZ1.tif", "FZ1_pyr_030_070"}) {
    std::ofstream(dir / name) << "x";
  }
  const SequenceViews views = sequence_views(dir, "FZ1", "_pyr_");
  EXPECT_EQ(views.horizontal, (std::vector<int>{0, 10, 350}));
  EXPECT_EQ(views.vertical, (std::vector<int>{80, 90}));
  EXPECT_TRUE(sequence_views(dir, "FZ3", "_pyr_").empty());
  EXPECT_TRUE(sequence_views(dir / "missing", "FZ1", "_pyr_").empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera
