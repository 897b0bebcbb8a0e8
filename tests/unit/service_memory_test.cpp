// Service::handle_from_memory: what the network threads answer themselves.
// It must give exactly what handle() gives, and nothing that would open a
// file or decode.

#include <gtest/gtest.h>

#include <filesystem>

#include "serve/service.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::make_pattern;
using testing::make_pyramid;
using testing::make_temp_dir;
using testing::write_pnm;

class ServiceFromMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("tessera-memory");
    fs::create_directory(dir_ / "root");
    write_pnm(dir_ / "pattern.ppm", make_pattern(600, 400, 3));
    make_pyramid(dir_ / "pattern.ppm", dir_ / "root" / "pattern.tif", 256);
    Config config;
    config.image_root = dir_ / "root";
    service_ = std::make_unique<Service>(config);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Request get(std::string path,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request request;
    request.method = "GET";
    request.path = std::move(path);
    request.headers = std::move(headers);
    return request;
  }

  fs::path dir_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceFromMemory, AnswersACachedTileAsHandleDoes) {
  const Request tile = get("/iiif/3/pattern/256,0,256,256/256,/0/default.png");
  // Nothing is known yet: the header must be read, the tile decoded.
  EXPECT_FALSE(service_->handle_from_memory(tile));
  EXPECT_FALSE(service_->handle_from_memory(get("/iiif/3/pattern/info.json")));

  const Response rendered = service_->handle(tile);
  ASSERT_EQ(rendered.status, 200);
  const auto again = service_->handle_from_memory(tile);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->content(), rendered.content());
  EXPECT_EQ(again->headers, rendered.headers);

  // The header is now known: descriptions come from memory too.
  const auto info = service_->handle_from_memory(get("/iiif/3/pattern/info.json"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  EXPECT_EQ(info->content(), service_->handle(get("/iiif/3/pattern/info.json")).content());
  // Another tile of the same image still needs decoding.
  EXPECT_FALSE(service_->handle_from_memory(get("/iiif/3/pattern/0,0,256,256/256,/0/default.png")));

  // Revalidation is answered from memory as well.
  const auto not_modified = service_->handle_from_memory(
      get(tile.path, {{"if-none-match", std::string(*rendered.find_header("ETag"))}}));
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_TRUE(not_modified->content().empty());
}

// Every tile protocol hands an uncached reply to a worker, including IIP's
// TIL (several tiles in one reply, one of them not yet encoded), and answers
// it from memory once handle() has made it. Each asks for a different tile
// of the full resolution: the protocols share the rendered tiles.
TEST_F(ServiceFromMemory, UncachedRepliesOfEveryProtocolGoToAWorker) {
  ASSERT_EQ(service_->handle(get("/iiif/3/pattern/info.json")).status, 200);  // header known
  Request til = get("/iip");
  til.query = "FIF=pattern.tif&TIL=2,0-1";
  Request jtl = get("/iip");
  jtl.query = "FIF=pattern.tif&JTL=2,3";
  for (const Request& request : {til, jtl, get("/deepzoom/pattern.tif_files/10/1_1.jpg"),
                                 get("/zoomify/pattern.tif/TileGroup0/2-2-1.jpg")}) {
    const std::string what = request.path + "?" + request.query;
    const auto early = service_->handle_from_memory(request);
    EXPECT_FALSE(early) << what << ": "
                        << (early ? std::to_string(early->status) + " " +
                                        std::string(early->content())
                                  : "");
    const Response made = service_->handle(request);
    ASSERT_EQ(made.status, 200) << what << ": " << made.content();
    const auto again = service_->handle_from_memory(request);
    ASSERT_TRUE(again) << what;
    EXPECT_EQ(again->content(), made.content()) << what;
  }
  // One tile of a TIL list cached is not the whole reply.
  Request wider = til;
  wider.query = "FIF=pattern.tif&TIL=2,0-2";
  EXPECT_FALSE(service_->handle_from_memory(wider));
}

TEST_F(ServiceFromMemory, AChangedFileIsNotServedFromMemory) {
  const Request tile = get("/iiif/3/pattern/0,0,256,256/256,/0/default.png");
  ASSERT_EQ(service_->handle(tile).status, 200);
  ASSERT_TRUE(service_->handle_from_memory(tile));
  const fs::path file = dir_ / "root" / "pattern.tif";
  write_pnm(dir_ / "other.ppm", make_pattern(600, 400, 1));
  make_pyramid(dir_ / "other.ppm", dir_ / "new.tif", 256);
  fs::rename(dir_ / "new.tif", file);
  EXPECT_FALSE(service_->handle_from_memory(tile));
}

TEST_F(ServiceFromMemory, ErrorsAndPagesAreRoutedAsHandleRoutesThem) {
  // Errors the resolver finds need no decoding.
  const auto missing = service_->handle_from_memory(get("/iiif/3/missing/info.json"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto escape = service_->handle_from_memory(get("/iiif/3/..%2F..%2Fetc%2Fpasswd/info.json"));
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status,
            service_->handle(get("/iiif/3/..%2F..%2Fetc%2Fpasswd/info.json")).status);
  // The gallery and the viewer's pages walk folders: always a worker's.
  EXPECT_FALSE(service_->handle_from_memory(get("/")));
  EXPECT_FALSE(service_->handle_from_memory(get("/api/images")));
  EXPECT_FALSE(service_->handle_from_memory(get("/view/pattern")));
}

}  // namespace
}  // namespace tessera
