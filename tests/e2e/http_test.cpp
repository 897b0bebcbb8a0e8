// The HTTP front: HEAD, keep-alive, CORS, Last-Modified, the request log,
// and configuration through the environment.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "e2e/fixture.hpp"
#include "serve/http_date.hpp"
#include "support/decode_image.hpp"
#include "support/test_images.hpp"

namespace tessera::testing {
namespace {

using Http = ServedImages;

TEST_F(Http, HeadHasTheHeadersOfGetAndNoBody) {
  const std::string url = "/iiif/3/pattern/full/300,/0/default.jpg";
  const auto get = http_get(port(), url);
  const auto head = http_request(port(), "HEAD", url);
  ASSERT_EQ(get.status, 200);
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.header("content-type"), "image/jpeg");
  EXPECT_TRUE(head.body.empty());
}

TEST_F(Http, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string request =
      "GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /iiif/3/pattern/0,0,256,256/256,/0/default.jpg HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /iiif/3/nothing/info.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const std::string answer = raw_exchange(port(), request);
  std::size_t count = 0;
  for (std::size_t at = answer.find("HTTP/1.1 "); at != std::string::npos;
       at = answer.find("HTTP/1.1 ", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
  EXPECT_NE(answer.find("HTTP/1.1 404"), std::string::npos);
}

// The status line and headers Tessera writes itself: one Content-Length,
// none on 204 and 304 (with no body), Connection as the client's version
// expects, and the connection closed when it asked for that.
TEST_F(Http, RepliesAreFramedAsHttp11Says) {
  const std::string url = "/iiif/3/pattern/0,0,256,256/256,/0/default.jpg";
  const auto first = http_get(port(), url);
  ASSERT_EQ(first.status, 200);
  const std::string tag = first.header("etag");
  ASSERT_FALSE(tag.empty());

  const std::string answer =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.1\r\nHost: a\r\nIf-None-Match: {}\r\n\r\n"
                                       "OPTIONS {} HTTP/1.1\r\nHost: a\r\n\r\n"
                                       "GET {} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                                       url, tag, url, url));
  const std::size_t second = answer.find("HTTP/1.1 204");
  const std::size_t third = answer.find("HTTP/1.1 200");
  ASSERT_EQ(answer.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << answer.substr(0, 300);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  const std::string not_modified = answer.substr(0, second);
  const std::string no_content = answer.substr(second, third - second);
  EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos) << not_modified;
  EXPECT_EQ(not_modified.size(), not_modified.find("\r\n\r\n") + 4);  // no body
  EXPECT_EQ(no_content.find("Content-Length"), std::string::npos) << no_content;
  const std::string last = answer.substr(third);
  EXPECT_NE(last.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(last.find("\r\nServer: Tessera\r\n"), std::string::npos);
  const std::string length = fmt::format("\r\nContent-Length: {}\r\n", first.body.size());
  const std::string head = last.substr(0, last.find("\r\n\r\n") + 2);
  ASSERT_NE(head.find(length), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), head.rfind("Content-Length")) << head;
  EXPECT_EQ(last.size(), last.find("\r\n\r\n") + 4 + first.body.size());

  // HTTP/1.0: closed after one reply unless kept alive, and then said so.
  const std::string old =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.0\r\n\r\nGET {} HTTP/1.0\r\n\r\n", url, url));
  EXPECT_EQ(old.find("HTTP/1.1 200", 1), std::string::npos) << "a second reply on 1.0";
  EXPECT_NE(old.find("\r\nConnection: close\r\n"), std::string::npos);
  const std::string kept =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                       "GET {} HTTP/1.0\r\n\r\n",
                                       url, url));
  EXPECT_NE(kept.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(kept.find("HTTP/1.1 200", 1), std::string::npos) << "the kept connection's 2nd reply";
}

TEST_F(Http, CorsIsOnForEveryResponse) {
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/info.json").header("access-control-allow-origin"),
            "*");
  EXPECT_EQ(http_get(port(), "/iiif/3/nothing/info.json").header("access-control-allow-origin"),
            "*");
  const auto options = http_request(port(), "OPTIONS", "/iiif/3/pattern/info.json");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.header("access-control-allow-origin"), "*");
}

TEST_F(Http, LastModifiedIsTheFilesTime) {
  struct stat st {};
  ASSERT_EQ(stat((tree().root / "pattern.tif").c_str(), &st), 0);
  const auto result = http_get(port(), "/iiif/3/pattern/full/64,/0/default.jpg");
  EXPECT_EQ(result.header("last-modified"), format_http_date(st.st_mtim.tv_sec));
}

TEST_F(Http, EachRequestIsLoggedOnOneLine) {
  http_get(port(), "/iiif/3/pattern/info.json?logged");
  std::string log;
  for (int i = 0; i < 50 && log.find("?logged") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = server().log();
  }
  EXPECT_NE(log.find("GET /iiif/3/pattern/info.json?logged 200 "), std::string::npos) << log;
}

TEST_F(Http, TheGalleryListsTheImages) {
  const auto page = http_get(port(), "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("viewer/gallery.js"), std::string::npos);
  const auto root = http_get(port(), "/api/images");
  ASSERT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("\"id\":\"pattern.tif\""), std::string::npos) << root.body;
  const auto sub = http_get(port(), "/api/images?folder=sub");
  EXPECT_NE(sub.body.find("\"id\":\"sub/deflate.tiff\""), std::string::npos) << sub.body;
}

// A client socket on 127.0.0.1:port that gives up waiting after 10 s, with a
// small receive buffer when asked (so a large reply fills it).
class Client {
 public:
  explicit Client(unsigned short port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    timeval wait{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& bytes) const {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  }
  // Reads until the server closes the connection (true) or 10 s pass
  // without a byte (false); what arrived is appended to `received`. A
  // `pause` after every `every` bytes makes a slow client.
  bool read_until_closed(std::string& received,
                         std::chrono::milliseconds pause = std::chrono::milliseconds(0),
                         std::size_t every = 0) const {
    char buffer[65536];
    std::size_t since_pause = 0;
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        received.append(buffer, std::size_t(n));
        since_pause += std::size_t(n);
        if (every > 0 && since_pause >= every) {
          std::this_thread::sleep_for(pause);
          since_pause = 0;
        }
        continue;
      }
      return n == 0 || errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The header value `name` of the reply that starts at `at`, "" if none.
std::string reply_header(const std::string& replies, std::size_t at, const std::string& name) {
  const std::size_t end = replies.find("\r\n\r\n", at);
  const std::size_t line = replies.find("\r\n" + name + ": ", at);
  if (end == std::string::npos || line == std::string::npos || line > end) return {};
  const std::size_t from = line + name.size() + 4;
  return replies.substr(from, replies.find("\r\n", from) - from);
}

// The test tree with a 1500x1500 noise image beside the pattern: its PNG
// (~6.7 MB) is larger than what the kernel buffers for a client that does
// not read.
// noise.tif: `side` x `side` random pixels, whose PNG is about 3 side^2 bytes.
TestTree make_tree_with_noise(uint32_t side = 1500) {
  TestTree tree = make_test_tree();
  Raster noise(side, side, 3);
  std::mt19937 random(7);
  for (uint32_t y = 0; y < noise.height(); ++y) {
    for (std::size_t x = 0; x < std::size_t(noise.width()) * 3; ++x) {
      noise.row(y)[x] = uint8_t(random());
    }
  }
  write_pnm(tree.dir / "noise.ppm", noise);
  make_pyramid(tree.dir / "noise.ppm", tree.root / "noise.tif", 256, {"--compression", "none"});
  return tree;
}

// A reply the socket does not take at once is finished by the network
// thread, and the connection goes on to the next request.
TEST(HttpConnections, ALargeReplyReachesAClientThatReadsLate) {
  const TestTree tree = make_tree_with_noise();
  ServerProcess server(tree.root);
  const std::string url = "/iiif/3/noise.tif/full/max/0/default.png";
  const auto expected = http_get(server.port(), url);
  ASSERT_EQ(expected.status, 200);
  ASSERT_GT(expected.body.size(), 6000000u);

  Client client(server.port(), 4096);
  ASSERT_TRUE(client.connected());
  client.send(
      fmt::format("GET {} HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /iiif/3/noise.tif/info.json HTTP/1.1\r\nHost: a\r\n"
                  "Connection: close\r\n\r\n",
                  url));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // not reading yet
  std::string replies;
  ASSERT_TRUE(client.read_until_closed(replies));
  ASSERT_EQ(replies.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << replies.substr(0, 200);
  const std::size_t body = replies.find("\r\n\r\n") + 4;
  ASSERT_EQ(reply_header(replies, 0, "Content-Length"), std::to_string(expected.body.size()));
  ASSERT_GE(replies.size(), body + expected.body.size());
  EXPECT_TRUE(replies.compare(body, expected.body.size(), expected.body) == 0);
  const std::size_t second = body + expected.body.size();
  EXPECT_EQ(replies.compare(second, 17, "HTTP/1.1 200 OK\r\n"), 0) << replies.substr(second, 200);
  EXPECT_NE(replies.find("\"width\": 1500", second), std::string::npos) << replies.substr(second);
}

// --idle-timeout closes a connection that sends half a request, one left
// idle after its reply, and one whose client stops reading a reply; a
// connection in use is not closed.
TEST(HttpConnections, IdleTimeoutClosesWaitingConnections) {
  const TestTree tree = make_tree_with_noise();
  ServerProcess server(tree.root, {"--idle-timeout", "1"});

  Client half(server.port());
  ASSERT_TRUE(half.connected());
  half.send("GET /iiif/3/pattern/info.json HTTP/1.1\r\nHo");
  std::string nothing;
  EXPECT_TRUE(half.read_until_closed(nothing));  // closed, not waited out
  EXPECT_EQ(nothing, "");

  Client idle(server.port());
  ASSERT_TRUE(idle.connected());
  for (int i = 0; i < 3; ++i) {  // 3 x 0.6 s: longer than the timeout, in use throughout
    idle.send("GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  std::string answers;
  EXPECT_TRUE(idle.read_until_closed(answers));
  std::size_t count = 0;
  for (std::size_t at = answers.find("HTTP/1.1 200 OK"); at != std::string::npos;
       at = answers.find("HTTP/1.1 200 OK", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << answers;

  Client stalled(server.port(), 4096);
  ASSERT_TRUE(stalled.connected());
  stalled.send("GET /iiif/3/noise.tif/full/max/0/default.png HTTP/1.1\r\nHost: a\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the server gives up meanwhile
  std::string part;
  EXPECT_TRUE(stalled.read_until_closed(part));
  ASSERT_EQ(part.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << part.substr(0, 200);
  const std::size_t length = std::stoul(reply_header(part, 0, "Content-Length"));
  EXPECT_LT(part.size() - (part.find("\r\n\r\n") + 4), length);
}

// A slow client that keeps reading gets all of a reply that takes it longer
// than --idle-timeout: the limit is on a stall, not on the whole write. The
// server sees progress only as the kernel's send buffer drains (up to ~1.3
// MB at a time), so the timeout here is 3 s against ~1 s between drains.
TEST(HttpConnections, ASlowReaderGetsAllOfALargeReply) {
  // A 20 MB reply read at 2.5 MB/s (0.2 s pauses after each 512 KB) takes
  // 8 s. The kernel's buffers take about 4 MB at once, so the server writes
  // the rest for over 6 s: a write limited to 3 s in all would be cut off.
  // The server sees progress whenever its send buffer has drained enough to
  // wake it, well within the 3 s.
  const TestTree tree = make_tree_with_noise(2600);
  ServerProcess server(tree.root, {"--idle-timeout", "3"});
  Client slow(server.port(), 65536);
  ASSERT_TRUE(slow.connected());
  slow.send(
      "GET /iiif/3/noise.tif/full/max/0/default.png HTTP/1.1\r\nHost: a\r\n"
      "Connection: close\r\n\r\n");
  const auto slow_start = std::chrono::steady_clock::now();
  std::string whole;
  EXPECT_TRUE(slow.read_until_closed(whole, std::chrono::milliseconds(200), 512 * 1024));
  ASSERT_EQ(whole.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << whole.substr(0, 200);
  const std::size_t length = std::stoul(reply_header(whole, 0, "Content-Length"));
  EXPECT_GT(length, 19'000'000u);
  EXPECT_EQ(whole.size() - (whole.find("\r\n\r\n") + 4), length);
  EXPECT_GT(std::chrono::steady_clock::now() - slow_start, std::chrono::seconds(6));
}

// The CPU time (user + system) a process has used, in clock ticks.
long cpu_ticks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 3.. after "pid (comm)"
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// Out of file descriptors, the server neither spins on accept() (which
// fails at once while a connection waits) nor calls an image missing: the
// request it holds is answered 503 with the reason and Retry-After, and
// the connections that waited are served once descriptors are free again.
TEST(HttpConnections, OutOfDescriptorsItAnswers503AndRecovers) {
  const TestTree tree = make_test_tree();
  ServerProcess server(tree.root);
  const auto open_now =
      std::distance(std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", server.pid())),
                    std::filesystem::directory_iterator());
  rlimit saved{};
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, nullptr, &saved), 0);
  const rlimit tight{rlim_t(open_now + 3), saved.rlim_max};  // the soft limit only
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, &tight, nullptr), 0);

  // Three connections take the last descriptors; the others wait.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long before = cpu_ticks(server.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // A retry at once would take a core: ~100 ticks a second.
  EXPECT_LT(cpu_ticks(server.pid()) - before, 30);

  clients.front()->send(
      "GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  std::string reply;
  EXPECT_TRUE(clients.front()->read_until_closed(reply));
  EXPECT_EQ(reply.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << reply;
  EXPECT_EQ(reply_header(reply, 0, "Retry-After"), "1");
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4),
            "server busy, try again: cannot open the image (Too many open files)\n");

  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, &saved, nullptr), 0);
  // A connection that waited in the backlog is served,
  clients.back()->send(
      "GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  std::string later;
  EXPECT_TRUE(clients.back()->read_until_closed(later));
  EXPECT_EQ(later.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << later.substr(0, 200);
  clients.clear();
  // and so are new ones. The shortage was logged, but not at every retry
  // (10 a second): once, or again after a closed connection let one more in.
  EXPECT_EQ(http_get(server.port(), "/iiif/3/pattern/full/100,/0/default.jpg").status, 200);
  const std::string log = server.log();
  const std::string line = "cannot accept connections for now: Too many open files";
  int logged = 0;
  for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++logged;
  EXPECT_GE(logged, 1) << log;
  EXPECT_LE(logged, 3) << log;
}

// Resident memory of a process, in bytes.
std::size_t resident_bytes(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

// A waiting connection holds little: 2000 of them, each with half a request,
// take a few kB each (a 16 kB buffer for draining refused requests is made
// only for those), and clients that hang up mid-request are simply closed.
TEST(HttpConnections, WaitingConnectionsCostLittleMemory) {
  const TestTree tree = make_test_tree();
  ServerProcess server(tree.root);
  ASSERT_EQ(http_get(server.port(), "/iiif/3/pattern/info.json").status, 200);
  const std::size_t before = resident_bytes(server.pid());
  constexpr std::size_t kConnections = 2000;
  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->connected());
    clients.back()->send("GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::size_t waiting = resident_bytes(server.pid());
  EXPECT_LT(waiting, before + kConnections * 8 * 1024) << before << " -> " << waiting;
  clients.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::size_t after = resident_bytes(server.pid());
  EXPECT_LT(after, before + kConnections * 8 * 1024) << before << " -> " << after;
  EXPECT_EQ(http_get(server.port(), "/iiif/3/pattern/info.json").status, 200);
  EXPECT_EQ(server.log().find(" 400 "), std::string::npos) << server.log();
}

// WATERMARK: every tile and every 256 px block of an export carries the mark
// (probability 1), added at half strength; stored tiles are then never sent
// as they are; probability 0 leaves the pictures alone; a mark that cannot
// be read stops the server from starting.
TEST(HttpConfig, WatermarksAreLaidOverTilesAndExports) {
  const TestTree tree = make_test_tree();
  // The mark: 40 x 20, its left half 200, its right half black (adds nothing).
  Raster mark(40, 20, 3);
  for (uint32_t y = 0; y < 20; ++y)
    for (uint32_t x = 0; x < 20; ++x)
      for (int b = 0; b < 3; ++b) mark.row(y)[x * 3 + b] = 200;
  write_pnm(tree.dir / "mark.ppm", mark);
  run_command(
      {"vips", "tiffsave", (tree.dir / "mark.ppm").string(), (tree.dir / "mark.tif").string()});
  const std::string tile = "/iiif/3/pattern/256,256,256,256/256,/0/default.png";
  const std::string jpeg_tile = "/iiif/3/pattern/256,256,256,256/256,/0/default.jpg";
  const std::string export_ = "/iiif/3/pattern/0,0,512,512/max/0/default.png";

  ServerProcess plain(tree.root, {}, {"CODEC_PASSTHROUGH=1"});
  ServerProcess marked(tree.root, {},
                       {"CODEC_PASSTHROUGH=1", "WATERMARK=" + (tree.dir / "mark.tif").string(),
                        "WATERMARK_PROBABILITY=1", "WATERMARK_OPACITY=0.5"});
  const auto count_marked = [](const Raster& a, const Raster& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size_bytes(); i += 3) {
      if (std::memcmp(a.data() + i, b.data() + i, 3) == 0) continue;
      ++n;
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(b.data()[i + k], std::min(255, a.data()[i + k] + 100));
      }
    }
    return n;
  };
  const Raster a = decode_image(http_get(plain.port(), tile).body);
  const Raster b = decode_image(http_get(marked.port(), tile).body);
  EXPECT_EQ(count_marked(a, b), 20u * 20);
  const Raster ea = decode_image(http_get(plain.port(), export_).body);
  const Raster eb = decode_image(http_get(marked.port(), export_).body);
  EXPECT_EQ(count_marked(ea, eb), 4u * 20 * 20);  // one mark in each of 4 blocks
  // A stored JPEG tile is re-encoded with its mark, not passed through.
  EXPECT_NE(http_get(plain.port(), jpeg_tile).body, http_get(marked.port(), jpeg_tile).body);

  ServerProcess never(tree.root, {},
                      {"WATERMARK=" + (tree.dir / "mark.tif").string(), "WATERMARK_PROBABILITY=0"});
  EXPECT_EQ(decode_image(http_get(never.port(), tile).body).size_bytes(), a.size_bytes());
  EXPECT_EQ(count_marked(a, decode_image(http_get(never.port(), tile).body)), 0u);

  std::ofstream(tree.dir / "broken.tif") << "II*\0 not a TIFF";
  std::string output;
  EXPECT_NE(run_tessera({"serve", tree.root.string(), "--port", "0"}, output,
                        {"WATERMARK=" + (tree.dir / "broken.tif").string()}),
            0);
  EXPECT_NE(output.find("WATERMARK"), std::string::npos) << output;
  EXPECT_NE(output.find("cannot be used"), std::string::npos) << output;
}

// Servers of their own, configured through the environment.
TEST(HttpConfig, EnvironmentConfiguresCorsBaseUrlQualityAndLogFile) {
  const TestTree tree = make_test_tree();
  const auto logfile = tree.dir / "tessera.log";
  const std::string url = "/iiif/3/pattern/full/500,/0/default.jpg";
  std::size_t size_low = 0, size_high = 0;
  {
    ServerProcess server(tree.root, {},
                         {"CORS=https://example.org", "BASE_URL=https://images.example.org/t/",
                          "JPEG_QUALITY=30", "LOGFILE=" + logfile.string()});
    const auto info = http_get(server.port(), "/iiif/3/pattern/info.json");
    EXPECT_EQ(info.header("access-control-allow-origin"), "https://example.org");
    EXPECT_NE(info.body.find("\"id\": \"https://images.example.org/t/iiif/3/pattern\""),
              std::string::npos)
        << info.body;
    size_low = http_get(server.port(), url).body.size();
  }
  {
    ServerProcess server(tree.root, {"--jpeg-quality", "95", "--cors", ""}, {"JPEG_QUALITY=30"});
    const auto result = http_get(server.port(), url);
    size_high = result.body.size();
    EXPECT_EQ(result.header("access-control-allow-origin"), "");
  }
  EXPECT_GT(size_high, size_low * 2);  // the flag won over the variable
  std::ifstream in(logfile);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("GET /iiif/3/pattern/info.json 200"), std::string::npos) << log;
  std::filesystem::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
