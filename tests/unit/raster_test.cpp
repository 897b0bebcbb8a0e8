#include "image/raster.hpp"

#include <gtest/gtest.h>

#include "image/image_info.hpp"

namespace tessera {
namespace {

TEST(Raster, PasteClipsAtTheEdges) {
  Raster canvas(4, 3, 1);
  Raster patch(3, 2, 1);
  for (uint32_t y = 0; y < 2; ++y)
    for (uint32_t x = 0; x < 3; ++x) patch.row(y)[x] = uint8_t(10 * (y + 1) + x);
  canvas.paste(patch, 2, 2);  // only (0,0) and (1,0) of the patch land
  EXPECT_EQ(canvas.row(2)[2], 10);
  EXPECT_EQ(canvas.row(2)[3], 11);
  EXPECT_EQ(canvas.row(1)[2], 0);
  canvas.paste(patch, -2, -1);  // only (2,1) lands at (0,0)
  EXPECT_EQ(canvas.row(0)[0], 22);
}

TEST(Raster, CropCopiesTheRectangle) {
  Raster r(5, 5, 3);
  r.row(3)[2 * 3 + 1] = 77;
  const Raster c = r.crop(2, 3, 2, 2);
  EXPECT_EQ(c.width(), 2u);
  EXPECT_EQ(c.height(), 2u);
  EXPECT_EQ(c.row(0)[1], 77);
  EXPECT_THROW(r.crop(4, 4, 2, 1), std::logic_error);
}

TEST(LevelScale, PowerOfTwoWhetherHalvingRoundsUpOrDown) {
  EXPECT_EQ(level_scale(1001, 777, 500, 388), 2.0);  // floor
  EXPECT_EQ(level_scale(1001, 777, 501, 389), 2.0);  // ceil
  EXPECT_EQ(level_scale(1001, 777, 63, 49), 16.0);
  EXPECT_DOUBLE_EQ(level_scale(1000, 1000, 300, 300), 1000.0 / 300);  // not a power of two
}

}  // namespace
}  // namespace tessera
