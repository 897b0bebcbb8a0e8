// ICC profiles: read from TIFF and JP2 files, and embedded in what is served
// from them as EMBED_ICC and MAX_ICC allow.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "encode/encoder.hpp"
#include "image/jp2_source.hpp"
#include "image/tiff_source.hpp"
#include "serve/service.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::make_icc_profile;
using testing::make_pattern;
using testing::make_temp_dir;

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class Icc : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("tessera-icc");
    fs::create_directory(dir_ / "root");
    const Raster picture = make_pattern(300, 200, 3);
    write_file(dir_ / "root" / "profiled.tif",
               encode_image(picture, Format::Tiff, {.icc = profile_}));
    write_file(dir_ / "root" / "profiled.jp2",
               encode_image(picture, Format::Jp2, {.icc = profile_}));
    write_file(dir_ / "root" / "plain.tif", encode_image(picture, Format::Tiff, {}));
  }
  void TearDown() override { fs::remove_all(dir_); }

  Response get(const Config& config, const std::string& path) const {
    Request request;
    request.method = "GET";
    request.path = path;
    return Service(config).handle(request);
  }
  Config config() const {
    Config c;
    c.image_root = dir_ / "root";
    return c;
  }

  const std::string profile_ = make_icc_profile(false);
  fs::path dir_;
};

TEST_F(Icc, ReadersKeepTheFilesProfile) {
  EXPECT_EQ(TiffSource(dir_ / "root" / "profiled.tif").info().icc, profile_);
  EXPECT_EQ(Jp2Source(dir_ / "root" / "profiled.jp2").info().icc, profile_);
  EXPECT_TRUE(TiffSource(dir_ / "root" / "plain.tif").info().icc.empty());
}

TEST_F(Icc, OutputsCarryItAsEmbedIccAndMaxIccSay) {
  const auto has_profile = [](const Response& r) {
    return r.content().find("iCCP") != std::string_view::npos ||
           r.content().find("ICC_PROFILE") != std::string_view::npos;
  };
  for (const char* file : {"profiled.tif", "profiled.jp2"}) {
    for (const char* format : {"png", "jpg"}) {
      const std::string path = fmt::format("/iiif/3/{}/full/max/0/default.{}", file, format);
      const Response with = get(config(), path);
      ASSERT_EQ(with.status, 200) << path << with.body;
      EXPECT_TRUE(has_profile(with)) << path;

      Config off = config();
      off.embed_icc = false;
      EXPECT_FALSE(has_profile(get(off, path))) << path;
      Config small = config();
      small.max_icc = int64_t(profile_.size()) - 1;
      EXPECT_FALSE(has_profile(get(small, path))) << path;
      small.max_icc = int64_t(profile_.size());
      EXPECT_TRUE(has_profile(get(small, path))) << path;
      Config none = config();
      none.max_icc = 0;
      EXPECT_FALSE(has_profile(get(none, path))) << path;
    }
  }
  EXPECT_FALSE(has_profile(get(config(), "/iiif/3/plain.tif/full/max/0/default.png")));
}

}  // namespace
}  // namespace tessera
