// Tessera's FastCGI front behind real web servers: nginx with the server
// block of docs/deploy.md (Tessera bound with --bind, started by spawn-fcgi
// on fd 0, and run as iipsrv.fcgi with FILESYSTEM_PREFIX), lighttpd and
// Apache mod_fcgid with theirs. Each front carries IIIF and iipsrv's own
// protocols (IIP, DeepZoom, Zoomify). Each server is stopped at the end and
// must exit cleanly.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "e2e/fcgi_support.hpp"
#include "e2e/fixture.hpp"

#ifndef TESSERA_BINARY
#error "TESSERA_BINARY must name the tessera executable"
#endif

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

int line_count(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

// Where a front sends iipsrv's protocols: IIP query strings after `iip`, and
// DeepZoom and Zoomify paths after `deepzoom` and `zoomify` (their own
// routes, or IIP's DeepZoom= and Zoomify= forms where only iipsrv's URL is
// mapped).
struct TileProtocolUrls {
  std::string iip = "/fcgi-bin/iipsrv.fcgi?";
  std::string deepzoom = "/deepzoom/";
  std::string zoomify = "/zoomify/";
};

// The only URL an iipsrv set-up maps, for all three protocols.
TileProtocolUrls iipsrv_urls_only() {
  return {"/fcgi-bin/iipsrv.fcgi?",
          "/fcgi-bin/iipsrv.fcgi?DeepZoom=", "/fcgi-bin/iipsrv.fcgi?Zoomify="};
}

// An IIP OBJ reply, an IIP JTL tile, a DeepZoom descriptor and tile and a
// Zoomify ImageProperties.xml and tile of pattern.tif (1000x700, 256 px
// tiles, stored levels 1000, 500 and 250 px wide) through the front on
// `port`: status, type, and the tiles' size and pixels.
void expect_tile_protocols(unsigned short port, const TileProtocolUrls& urls,
                           const TestTree& tree) {
  const auto obj = http_get(port, urls.iip + "FIF=pattern.tif&OBJ=IIP,1.0&OBJ=Max-size");
  ASSERT_EQ(obj.status, 200) << obj.body;
  EXPECT_EQ(obj.header("content-type"), "application/vnd.netfpx");
  EXPECT_EQ(obj.body, "IIP:1.0\r\nMax-size:1000 700\r\n");

  // Resolution 2 is the full size; tile 5 is the second of the second row.
  const auto jtl = http_get(port, urls.iip + "FIF=pattern.tif&JTL=2,5");
  ASSERT_EQ(jtl.status, 200) << jtl.body;
  const Raster jtl_pixels = decode_body(jtl);
  ASSERT_EQ(jtl_pixels.width(), 256u);
  ASSERT_EQ(jtl_pixels.height(), 256u);
  EXPECT_LT(mean_abs_diff(jtl_pixels, tree.pattern.crop(256, 256, 256, 256)), 4.0);

  const auto dzi = http_get(port, urls.deepzoom + "pattern.tif.dzi");
  ASSERT_EQ(dzi.status, 200) << dzi.body;
  EXPECT_EQ(dzi.header("content-type"), "application/xml");
  EXPECT_NE(dzi.body.find(R"(TileSize="256" Overlap="0" Format="jpg")"), std::string::npos)
      << dzi.body;
  EXPECT_NE(dzi.body.find(R"(<Size Width="1000" Height="700"/>)"), std::string::npos) << dzi.body;
  // DeepZoom level 9 is half size (500x350): its tile 1_1 is 244x94.
  const auto dz_tile = http_get(port, urls.deepzoom + "pattern.tif_files/9/1_1.jpg");
  ASSERT_EQ(dz_tile.status, 200) << dz_tile.body;
  const Raster dz_pixels = decode_body(dz_tile);
  ASSERT_EQ(dz_pixels.width(), 244u);
  ASSERT_EQ(dz_pixels.height(), 94u);
  EXPECT_LT(mean_abs_diff(dz_pixels, box_reduce(tree.pattern, 2).crop(256, 256, 244, 94)), 4.0);

  const auto props = http_get(port, urls.zoomify + "pattern.tif/ImageProperties.xml");
  ASSERT_EQ(props.status, 200) << props.body;
  EXPECT_EQ(props.header("content-type"), "application/xml");
  EXPECT_NE(props.body.find(R"(WIDTH="1000" HEIGHT="700")"), std::string::npos) << props.body;
  EXPECT_NE(props.body.find(R"(TILESIZE="256")"), std::string::npos) << props.body;
  // Zoomify tier 2 is the full size: its tile 3-2 is the bottom-right corner.
  const auto zoomify_tile = http_get(port, urls.zoomify + "pattern.tif/TileGroup0/2-3-2.jpg");
  ASSERT_EQ(zoomify_tile.status, 200) << zoomify_tile.body;
  const Raster zoomify_pixels = decode_body(zoomify_tile);
  ASSERT_EQ(zoomify_pixels.width(), 232u);
  ASSERT_EQ(zoomify_pixels.height(), 188u);
  EXPECT_LT(mean_abs_diff(zoomify_pixels, tree.pattern.crop(768, 512, 232, 188)), 4.0);
}

// ---------------------------------------------------------------------------
// tessera serve --fcgi --bind, behind nginx

class FcgiBehindNginx : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tree_ = std::make_unique<TestTree>(make_test_tree());
    tessera_ = std::make_unique<Child>(
        std::vector<std::string>{TESSERA_BINARY, "serve", tree_->root.string(), "--fcgi", "--bind",
                                 "127.0.0.1:0", "--threads", "4"},
        std::vector<std::string>{"LOGFILE=" + (tree_->dir / "tessera.log").string()},
        tree_->dir / "tessera.out");
    const std::string where = wait_for_fastcgi_line(*tessera_);
    nginx_ = std::make_unique<Nginx>(tree_->dir / "nginx", where);
  }
  static void TearDownTestSuite() {
    nginx_.reset();
    if (tessera_) {
      EXPECT_EQ(tessera_->stop(SIGTERM), 0) << tessera_->output();
    }
    tessera_.reset();
    if (tree_) fs::remove_all(tree_->dir);
    tree_.reset();
  }

  static unsigned short port() { return nginx_->port(); }
  static const TestTree& tree() { return *tree_; }

  static std::unique_ptr<TestTree> tree_;
  static std::unique_ptr<Child> tessera_;
  static std::unique_ptr<Nginx> nginx_;
};

std::unique_ptr<TestTree> FcgiBehindNginx::tree_;
std::unique_ptr<Child> FcgiBehindNginx::tessera_;
std::unique_ptr<Nginx> FcgiBehindNginx::nginx_;

TEST_F(FcgiBehindNginx, InfoJsonThroughNginx) {
  const auto result = http_get(port(), "/iiif/3/pattern/info.json");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.header("content-type"), "application/json");
  EXPECT_EQ(result.header("access-control-allow-origin"), "*");
  const json info = json::parse(result.body);
  // The client's Host header reached Tessera through nginx.
  EXPECT_EQ(info["id"], fmt::format("http://127.0.0.1:{}/iiif/3/pattern", port()));
  EXPECT_EQ(info["width"], 1000);
  EXPECT_EQ(info["height"], 700);
  EXPECT_EQ(result.header("content-length"), std::to_string(result.body.size()));
}

TEST_F(FcgiBehindNginx, TilesThroughNginxHoldTheImagesPixels) {
  const auto full = http_get(port(), "/iiif/3/pattern/256,256,256,256/256,/0/default.jpg");
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(full.header("content-type"), "image/jpeg");
  EXPECT_LT(mean_abs_diff(decode_body(full), tree().pattern.crop(256, 256, 256, 256)), 4.0);

  const auto half = http_get(port(), "/iiif/3/pattern/512,0,488,512/244,/0/default.jpg");
  ASSERT_EQ(half.status, 200) << half.body;
  const Raster want = box_reduce(tree().pattern, 2).crop(256, 0, 244, 256);
  EXPECT_LT(mean_abs_diff(decode_body(half), want), 4.0);

  // An identifier with an encoded slash stays one identifier on its way.
  const auto nested = http_get(port(), "/iiif/3/sub%2Fdeflate/0,0,256,256/256,/0/default.jpg");
  ASSERT_EQ(nested.status, 200) << nested.body;
  EXPECT_LT(mean_abs_diff(decode_body(nested), tree().pattern.crop(0, 0, 256, 256)), 4.0);
}

TEST_F(FcgiBehindNginx, IipDeepZoomAndZoomifyThroughNginx) {
  expect_tile_protocols(port(), TileProtocolUrls{}, tree());
  // iipsrv's query-string forms of DeepZoom and Zoomify, through the same block.
  expect_tile_protocols(port(), iipsrv_urls_only(), tree());
}

TEST_F(FcgiBehindNginx, HeadGivesTheLengthAndNoBody) {
  const std::string url = "/iiif/3/pattern/full/500,/0/default.jpg";
  const auto get = http_get(port(), url);
  ASSERT_EQ(get.status, 200);
  const auto head = http_request(port(), "HEAD", url);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "image/jpeg");
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_TRUE(head.body.empty());
}

TEST_F(FcgiBehindNginx, ErrorsKeepTheirStatusAndReason) {
  const auto missing = http_get(port(), "/iiif/3/nothing/info.json");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(line_count(missing.body), 1) << missing.body;
  EXPECT_NE(missing.body.find("nothing"), std::string::npos) << missing.body;

  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/2000,0,10,10/max/0/default.jpg").status, 400);
  EXPECT_EQ(http_get(port(), "/iiif/3/escape/info.json").status, 403);
  EXPECT_EQ(http_get(port(), "/no/such/route").status, 404);
  const auto post = http_request(port(), "POST", "/iiif/3/pattern/info.json");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.header("allow").find("GET"), std::string::npos);
}

TEST_F(FcgiBehindNginx, ConcurrentRequestsAllGetTheirOwnAnswer) {
  std::vector<std::string> urls;
  for (int x = 0; x < 4; ++x) {
    for (int y = 0; y < 3; ++y) {
      urls.push_back(
          fmt::format("/iiif/3/pattern/{},{},256,256/max/0/default.jpg", x * 256, y * 256));
    }
  }
  urls.push_back("/iiif/3/pattern/full/max/0/default.png");
  urls.push_back("/iiif/3/pattern/info.json");
  std::vector<std::string> expected;
  for (const auto& url : urls) expected.push_back(http_get(port(), url).body);

  // Every URL three times, all at once.
  std::vector<std::future<HttpResult>> pending;
  for (int round = 0; round < 3; ++round) {
    for (const auto& url : urls) {
      pending.push_back(std::async(std::launch::async, [url] { return http_get(port(), url); }));
    }
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const HttpResult result = pending[i].get();
    const std::size_t u = i % urls.size();
    EXPECT_EQ(result.status, 200) << urls[u];
    EXPECT_EQ(result.body, expected[u]) << urls[u];
  }
}

TEST_F(FcgiBehindNginx, EveryRequestIsLogged) {
  http_get(port(), "/iiif/3/pattern/info.json?logged=1");
  std::string log;
  EXPECT_TRUE(wait_for([&] {
    log = read_text_file(tree().dir / "tessera.log");
    return log.find("GET /iiif/3/pattern/info.json?logged=1 200") != std::string::npos;
  })) << log;
  EXPECT_NE(log.find("FastCGI on 127.0.0.1:"), std::string::npos) << log;
}

// ---------------------------------------------------------------------------
// Start-up and shut-down

TEST(FcgiServer, StopsCleanlyAndRemovesItsSocket) {
  const fs::path dir = make_temp_dir("tessera-fcgi-stop");
  const fs::path socket = dir / "fcgi.sock";
  Child tessera(
      {TESSERA_BINARY, "serve", dir.string(), "--bind", socket.string(), "--backlog", "16"}, {},
      dir / "out.txt");
  EXPECT_EQ(wait_for_fastcgi_line(tessera), socket.string());
  EXPECT_TRUE(can_connect(socket));
  EXPECT_EQ(tessera.stop(SIGTERM), 0) << tessera.output();
  EXPECT_FALSE(fs::exists(socket));
  EXPECT_NE(tessera.output().find("stopping"), std::string::npos) << tessera.output();
  fs::remove_all(dir);
}

TEST(FcgiServer, RefusesWhatItCannotServe) {
  const fs::path dir = make_temp_dir("tessera-fcgi-refuse");
  // --fcgi without --bind needs a listening socket on standard input.
  Child no_socket({TESSERA_BINARY, "serve", dir.string(), "--fcgi"}, {}, dir / "a.txt");
  EXPECT_EQ(no_socket.wait(20s), 1);
  EXPECT_EQ(line_count(no_socket.output()), 1) << no_socket.output();
  EXPECT_NE(no_socket.output().find("--bind"), std::string::npos) << no_socket.output();
  // A socket already served by another process.
  const fs::path socket = dir / "busy.sock";
  Child first({TESSERA_BINARY, "serve", dir.string(), "--bind", socket.string()}, {},
              dir / "b.txt");
  wait_for_fastcgi_line(first);
  Child second({TESSERA_BINARY, "serve", dir.string(), "--bind", socket.string()}, {},
               dir / "c.txt");
  EXPECT_EQ(second.wait(20s), 1);
  EXPECT_NE(second.output().find("another server listens there"), std::string::npos)
      << second.output();
  EXPECT_TRUE(can_connect(socket));  // the first one's socket was left alone
  EXPECT_EQ(first.stop(SIGTERM), 0);
  Child bad_port({TESSERA_BINARY, "serve", dir.string(), "--bind", "127.0.0.1:http"}, {},
                 dir / "d.txt");
  EXPECT_EQ(bad_port.wait(20s), 1);
  EXPECT_EQ(line_count(bad_port.output()), 1) << bad_port.output();
  // Flags of the other front, and a backlog without a socket.
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--fcgi", "--port", "8081"},
        {"--bind", ":0", "--host", "::1"},
        {"--backlog", "16"},
        {"--bind", ":0", "--backlog", "0"}}) {
    std::vector<std::string> args{"serve", dir.string()};
    args.insert(args.end(), flags.begin(), flags.end());
    std::string out;
    EXPECT_EQ(run_tessera(args, out), 2) << out;
    EXPECT_EQ(line_count(out), 1) << out;
  }
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// spawn-fcgi: the listening socket on fd 0

TEST(FcgiSpawned, ServesTheSocketOnStandardInput) {
  const TestTree tree = make_test_tree();
  const fs::path socket = tree.dir / "fcgi.sock";
  // -n: spawn-fcgi binds the socket, puts it on fd 0 and becomes tessera.
  Child tessera({find_program("spawn-fcgi"), "-n", "-s", socket.string(), "--", TESSERA_BINARY,
                 "serve", tree.root.string(), "--threads", "2"},
                {"LOGFILE=" + (tree.dir / "tessera.log").string()}, tree.dir / "out.txt");
  ASSERT_TRUE(wait_for([&] { return can_connect(socket); })) << tessera.output();
  {
    Nginx nginx(tree.dir / "nginx", "unix:" + socket.string());
    const auto info = http_get(nginx.port(), "/iiif/3/pattern/info.json");
    ASSERT_EQ(info.status, 200) << info.body << nginx.error_log();
    EXPECT_EQ(json::parse(info.body)["width"], 1000);
    const auto tile = http_get(nginx.port(), "/iiif/3/pattern/0,0,256,256/256,/0/default.jpg");
    ASSERT_EQ(tile.status, 200);
    EXPECT_LT(mean_abs_diff(decode_body(tile), tree.pattern.crop(0, 0, 256, 256)), 4.0);
    const auto head = http_request(nginx.port(), "HEAD", "/iiif/3/pattern/info.json");
    EXPECT_EQ(head.header("content-length"), std::to_string(info.body.size()));
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(http_get(nginx.port(), "/iiif/3/missing/info.json").status, 404);
    expect_tile_protocols(nginx.port(), TileProtocolUrls{}, tree);
  }
  EXPECT_EQ(tessera.stop(SIGTERM), 0) << tessera.output();
  const std::string log = read_text_file(tree.dir / "tessera.log");
  EXPECT_NE(log.find("FastCGI on standard input"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /iiif/3/pattern/info.json 200"), std::string::npos) << log;
  fs::remove_all(tree.dir);
}

// ---------------------------------------------------------------------------
// The same binary as iipsrv.fcgi

class IipsrvName : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tree_ = std::make_unique<TestTree>(make_test_tree());
    fs::create_directories(tree_->dir / "bin");
    fs::create_symlink(TESSERA_BINARY, tree_->dir / "bin" / "iipsrv.fcgi");
  }
  static void TearDownTestSuite() {
    if (tree_) fs::remove_all(tree_->dir);
    tree_.reset();
  }
  static std::string iipsrv() { return (tree_->dir / "bin" / "iipsrv.fcgi").string(); }
  static std::unique_ptr<TestTree> tree_;
};

std::unique_ptr<TestTree> IipsrvName::tree_;

TEST_F(IipsrvName, UnderSpawnFcgiWithFilesystemPrefix) {
  const fs::path socket = tree_->dir / "iipsrv.sock";
  const fs::path log = tree_->dir / "iipsrv.log";
  // iipsrv's spawn-fcgi set-up; the image root is the folder the prefix names.
  Child iipsrv_process({find_program("spawn-fcgi"), "-n", "-s", socket.string(), "--", iipsrv()},
                       {"FILESYSTEM_PREFIX=" + tree_->root.string() + "/",
                        "LOGFILE=" + log.string(), "VERBOSITY=1", "JPEG_QUALITY=90"},
                       tree_->dir / "iipsrv.out");
  ASSERT_TRUE(wait_for([&] { return can_connect(socket); })) << iipsrv_process.output();
  {
    Nginx nginx(tree_->dir / "nginx-spawned", "unix:" + socket.string());
    const auto info = http_get(nginx.port(), "/iiif/3/pattern/info.json");
    ASSERT_EQ(info.status, 200) << info.body;
    EXPECT_EQ(json::parse(info.body)["width"], 1000);
    // iipsrv's default: no CORS header unless CORS is set.
    EXPECT_EQ(info.header("access-control-allow-origin"), "");
    const auto tile =
        http_get(nginx.port(), "/iiif/3/sub%2Fdeflate/0,0,256,256/256,/0/default.jpg");
    ASSERT_EQ(tile.status, 200);
    EXPECT_LT(mean_abs_diff(decode_body(tile), tree_->pattern.crop(0, 0, 256, 256)), 4.0);
    // Nothing outside the prefix's folder.
    EXPECT_EQ(http_get(nginx.port(), "/iiif/3/escape/info.json").status, 403);
    const auto up = http_get(nginx.port(), "/iiif/3/..%2F..%2Foutside/info.json");
    EXPECT_GE(up.status, 400);
    EXPECT_LT(up.status, 500);
    EXPECT_EQ(up.body.find("\"width\""), std::string::npos);
    // iipsrv's identifiers, appended to the prefix as iipsrv does.
    expect_tile_protocols(nginx.port(), TileProtocolUrls{}, *tree_);
  }
  EXPECT_EQ(iipsrv_process.stop(SIGTERM), 0) << iipsrv_process.output();
  const std::string text = read_text_file(log);
  EXPECT_NE(text.find("GET /iiif/3/pattern/info.json 200"), std::string::npos) << text;
}

TEST_F(IipsrvName, BindsLikeIipsrvAndReadsTheEnvironment) {
  Child iipsrv_process(
      {iipsrv(), "--bind", "127.0.0.1:0", "--backlog", "64"},
      // iipsrv appends the identifier to the prefix as is: the
      // folder's trailing slash is the configuration's to give.
      {"FILESYSTEM_PREFIX=" + tree_->root.string() + "/", "CORS=https://example.org",
       "LOGFILE=" + (tree_->dir / "bind.log").string()},
      tree_->dir / "bind.out");
  const std::string where = wait_for_fastcgi_line(iipsrv_process);
  {
    Nginx nginx(tree_->dir / "nginx-bind", where);
    const auto info = http_get(nginx.port(), "/iiif/3/pattern/info.json");
    ASSERT_EQ(info.status, 200) << info.body;
    EXPECT_EQ(info.header("access-control-allow-origin"), "https://example.org");
  }
  EXPECT_EQ(iipsrv_process.stop(SIGTERM), 0) << iipsrv_process.output();
}

TEST_F(IipsrvName, RefusesToStartWithOneLine) {
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases = {
      {{iipsrv()}, {}},                  // no socket on fd 0, no --bind
      {{iipsrv(), "--port", "80"}, {}},  // not an iipsrv argument
      {{iipsrv(), "--bind"}, {}},        // no value
      {{iipsrv(), "--bind", "127.0.0.1:0", "--backlog", "lots"}, {}},
      {{iipsrv(), "--bind", "127.0.0.1:0"}, {"JPEG_QUALITY=500"}},
      {{iipsrv(), "--bind", "127.0.0.1:0"}, {"URI_MAP=iiif=>WMS"}},
      {{iipsrv(), "--bind", "127.0.0.1:0"}, {"FILESYSTEM_PREFIX=/no/such/folder/"}},
      // A log file that cannot be made (its folder would be a file).
      {{iipsrv(), "--bind", "127.0.0.1:0"}, {"LOGFILE=" + iipsrv() + "/iipsrv.log"}},
  };
  int n = 0;
  for (const auto& [args, env] : cases) {
    Child process(args, env, tree_->dir / fmt::format("refuse{}.txt", n++));
    EXPECT_EQ(process.wait(20s), 1) << args.back();
    const std::string out = process.output();
    EXPECT_EQ(line_count(out), 1) << out;
    EXPECT_EQ(out.rfind("iipsrv.fcgi: ", 0), 0u) << out;
  }
}

// ---------------------------------------------------------------------------
// lighttpd, with the blocks of docs/deploy.md

// lighttpd in the foreground with `fastcgi_block` as its FastCGI set-up.
class Lighttpd {
 public:
  Lighttpd(const fs::path& dir, const std::string& fastcgi_block) : dir_(dir) {
    fs::create_directories(dir_ / "www");
    for (int attempt = 0; attempt < 3 && !child_; ++attempt) {
      port_ = free_port();
      std::ofstream(dir_ / "lighttpd.conf") << fmt::format(
          "server.document-root = \"{0}/www\"\nserver.bind = \"127.0.0.1\"\n"
          "server.port = {1}\nserver.errorlog = \"{0}/error.log\"\n{2}",
          dir_.string(), port_, fastcgi_block);
      child_ =
          std::make_unique<Child>(std::vector<std::string>{find_program("lighttpd"), "-D", "-f",
                                                           (dir_ / "lighttpd.conf").string()},
                                  std::vector<std::string>{}, dir_ / "lighttpd.out");
      if (!wait_for([&] { return can_connect(port_) || child_->wait(0ms) >= 0; }) ||
          !can_connect(port_)) {
        child_.reset();
      }
    }
    if (!child_) {
      throw std::runtime_error("lighttpd did not start: " + read_text_file(dir_ / "error.log") +
                               read_text_file(dir_ / "lighttpd.out"));
    }
  }
  ~Lighttpd() { stop(); }
  int stop() { return child_ ? child_->stop(SIGTERM) : -1; }
  unsigned short port() const { return port_; }

 private:
  fs::path dir_;
  unsigned short port_ = 0;
  std::unique_ptr<Child> child_;
};

TEST(FcgiLighttpd, EveryPrefixToOneRunningTessera) {
  const TestTree tree = make_test_tree();
  const fs::path socket = tree.dir / "fcgi.sock";
  Child tessera({TESSERA_BINARY, "serve", tree.root.string(), "--bind", socket.string()}, {},
                tree.dir / "tessera.out");
  wait_for_fastcgi_line(tessera);
  const std::string block =
      documented_block("<!-- tested by tests/e2e/fcgi_test.cpp: lighttpd, one", "lighttpd",
                       {{"/run/tessera/fcgi.sock", socket.string()}});
  {
    Lighttpd lighttpd(tree.dir / "lighttpd", block);
    const auto info = http_get(lighttpd.port(), "/iiif/3/pattern/info.json");
    ASSERT_EQ(info.status, 200) << info.body;
    EXPECT_EQ(json::parse(info.body)["width"], 1000);
    const auto tile = http_get(lighttpd.port(), "/iiif/3/pattern/0,0,256,256/max/0/default.jpg");
    ASSERT_EQ(tile.status, 200);
    EXPECT_LT(mean_abs_diff(decode_body(tile), tree.pattern.crop(0, 0, 256, 256)), 4.0);
    EXPECT_EQ(http_get(lighttpd.port(), "/iiif/3/missing/info.json").status, 404);
    expect_tile_protocols(lighttpd.port(), TileProtocolUrls{}, tree);
  }
  EXPECT_EQ(tessera.stop(SIGTERM), 0) << tessera.output();
  fs::remove_all(tree.dir);
}

TEST(FcgiLighttpd, StartsIipsrvFcgiItself) {
  const TestTree tree = make_test_tree();
  const fs::path program = tree.dir / "iipsrv.fcgi";
  fs::create_symlink(TESSERA_BINARY, program);
  const fs::path log = tree.dir / "iipsrv.log";
  const std::string block =
      documented_block("<!-- tested by tests/e2e/fcgi_test.cpp: lighttpd starting", "lighttpd",
                       {{"/run/lighttpd/iipsrv.sock", (tree.dir / "iipsrv.sock").string()},
                        {"/usr/local/lib/iipimage-server/iipsrv.fcgi", program.string()},
                        {"/srv/images/", tree.root.string() + "/"},
                        {"/var/log/lighttpd/iipsrv.log", log.string()}});
  {
    Lighttpd lighttpd(tree.dir / "lighttpd", block);
    const auto reply =
        http_get(lighttpd.port(), "/fcgi-bin/iipsrv.fcgi?FIF=pattern.tif&OBJ=IIP,1.0");
    EXPECT_EQ(reply.status, 200) << reply.body
                                 << read_text_file(tree.dir / "lighttpd" / "error.log");
    EXPECT_EQ(reply.body, "IIP:1.0\r\n");
    // Only iipsrv's URL is mapped: DeepZoom and Zoomify in its query strings.
    expect_tile_protocols(lighttpd.port(), iipsrv_urls_only(), tree);
    std::string text;
    EXPECT_TRUE(wait_for([&] {
      text = read_text_file(log);
      return text.find("GET /fcgi-bin/iipsrv.fcgi?FIF=pattern.tif&OBJ=IIP,1.0") !=
                 std::string::npos &&
             text.find("FastCGI on standard input serving " + tree.root.string()) !=
                 std::string::npos;
    })) << text;
    lighttpd.stop();
  }
  // lighttpd stops the program it started; Tessera finishes cleanly.
  std::string text;
  EXPECT_TRUE(wait_for([&] {
    text = read_text_file(log);
    return text.find("stopping after the requests in progress") != std::string::npos;
  })) << text;
  fs::remove_all(tree.dir);
}

// ---------------------------------------------------------------------------
// Apache with mod_fcgid, with the block of docs/deploy.md

TEST(FcgiApache, ModFcgidStartsIipsrvFcgi) {
  const TestTree tree = make_test_tree();
  // Apache's children run as `daemon` when started as root: let them in.
  fs::permissions(tree.dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  const fs::path lib = tree.dir / "lib";
  const fs::path run = tree.dir / "run";
  fs::create_directories(lib);
  fs::create_directories(run);
  fs::permissions(run, fs::perms::all);
  // Installed as `make install` does: the program beside its iipsrv.fcgi
  // link. (Apache, as its own user, refuses a link into a build folder it
  // cannot read, e.g. one under a private mktemp directory.)
  fs::copy_file(TESSERA_BINARY, lib / "tessera");
  fs::permissions(lib / "tessera", fs::perms::owner_all | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read |
                                       fs::perms::others_exec);
  fs::create_symlink("tessera", lib / "iipsrv.fcgi");
  const fs::path log = run / "iipsrv.log";
  const std::string block =
      documented_block("<!-- tested by tests/e2e/fcgi_test.cpp: Apache", "apache",
                       {{"/usr/local/lib/iipimage-server/", lib.string() + "/"},
                        {"/srv/images/", tree.root.string() + "/"},
                        {"LOGFILE \"syslog\"", "LOGFILE \"" + log.string() + "\""}});
  const std::string modules = "/usr/lib/apache2/modules";
  unsigned short port = 0;
  std::unique_ptr<Child> apache;
  for (int attempt = 0; attempt < 3 && !apache; ++attempt) {
    port = free_port();
    std::ofstream(tree.dir / "httpd.conf") << fmt::format(
        "ServerRoot \"{0}\"\nServerName 127.0.0.1\nListen 127.0.0.1:{1}\n"
        "PidFile {0}/run/httpd.pid\nErrorLog {0}/error.log\n"
        "LoadModule mpm_event_module {2}/mod_mpm_event.so\n"
        "LoadModule authz_core_module {2}/mod_authz_core.so\n"
        "LoadModule alias_module {2}/mod_alias.so\n"
        "LoadModule fcgid_module {2}/mod_fcgid.so\n"
        "User daemon\nGroup daemon\nDocumentRoot {0}/root\n"
        "FcgidIPCDir {0}/run/fcgid\nFcgidProcessTableFile {0}/run/fcgid_shm\n{3}",
        tree.dir.string(), port, modules, block);
    apache = std::make_unique<Child>(std::vector<std::string>{find_program("apache2"), "-X", "-f",
                                                              (tree.dir / "httpd.conf").string()},
                                     std::vector<std::string>{}, tree.dir / "apache.out");
    if (!wait_for([&] { return can_connect(port) || apache->wait(0ms) >= 0; }) ||
        !can_connect(port)) {
      apache.reset();
    }
  }
  ASSERT_TRUE(apache) << read_text_file(tree.dir / "error.log")
                      << read_text_file(tree.dir / "apache.out");

  const auto info = http_get(port, "/iiif/3/pattern/info.json");
  ASSERT_EQ(info.status, 200) << info.body << read_text_file(tree.dir / "error.log");
  EXPECT_EQ(json::parse(info.body)["width"], 1000);
  EXPECT_EQ(info.header("access-control-allow-origin"), "*");  // FcgidInitialEnv CORS
  // PATH_INFO and REQUEST_URI as Apache passes them: %2F stays one identifier.
  const auto nested = http_get(port, "/iiif/3/sub%2Fdeflate/0,0,256,256/256,/0/default.jpg");
  ASSERT_EQ(nested.status, 200) << nested.body;
  EXPECT_LT(mean_abs_diff(decode_body(nested), tree.pattern.crop(0, 0, 256, 256)), 4.0);
  const auto head = http_request(port, "HEAD", "/iiif/3/pattern/info.json");
  EXPECT_EQ(head.header("content-length"), std::to_string(info.body.size()));
  EXPECT_EQ(http_get(port, "/iiif/3/escape/info.json").status, 403);
  // iipsrv's URL under /fcgi-bin/, and Tessera's /deepzoom and /zoomify aliases.
  const auto obj = http_get(port, "/fcgi-bin/iipsrv.fcgi?FIF=pattern.tif&OBJ=IIP,1.0");
  EXPECT_EQ(obj.status, 200) << obj.body;
  EXPECT_EQ(obj.body, "IIP:1.0\r\n");
  expect_tile_protocols(port, TileProtocolUrls{}, tree);
  std::string text;
  EXPECT_TRUE(wait_for([&] {
    text = read_text_file(log);
    return text.find("GET /fcgi-bin/iipsrv.fcgi?FIF=pattern.tif&OBJ=IIP,1.0") != std::string::npos;
  })) << text;

  // The processes mod_fcgid started from this copy of the program.
  const auto started = [&] {
    std::vector<int> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::error_code ec;
      const fs::path exe = fs::read_symlink(entry.path() / "exe", ec);
      if (!ec && exe == lib / "tessera") pids.push_back(std::stoi(name));
    }
    return pids;
  };
  EXPECT_FALSE(started().empty());
  // mod_fcgid may still be starting another process for the requests above
  // (it adds them under load); one that is half started when Apache stops
  // can be left behind by mod_fcgid. Stop once the set has settled.
  std::vector<int> settled = started();
  for (int quiet = 0, rounds = 0; quiet < 10 && rounds < 200; ++rounds) {
    std::this_thread::sleep_for(100ms);
    const std::vector<int> now = started();
    quiet = now == settled ? quiet + 1 : 0;
    settled = now;
  }

  apache->stop(SIGTERM);
  // mod_fcgid stops the program it started: none is left running. It sends
  // SIGTERM, which Tessera logs as it stops; on a loaded machine Apache may
  // escalate to SIGKILL first, so the line is not required.
  EXPECT_TRUE(wait_for([&] { return started().empty(); }))
      << read_text_file(tree.dir / "error.log");
  text = read_text_file(log);
  if (text.find("stopping after the requests in progress") == std::string::npos) {
    std::cerr << "note: Tessera under mod_fcgid was stopped without SIGTERM\n";
  }
  for (const int pid : started()) ::kill(pid, SIGKILL);  // none, unless the test failed
  fs::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
