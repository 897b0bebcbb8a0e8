// Opening image files: a client is told 404 only when the file is not there.
// A server out of file descriptors answers 503 (try again), whichever reader
// the file needs; the limit is lowered for real, in this process.

#include "image/image_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>

#include "image/image_source.hpp"
#include "image/jp2_source.hpp"
#include "image/tiff_source.hpp"
#include "support/error_status.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::status_of;

namespace fs = std::filesystem;

// What `f` throws, untouched (nullptr if nothing).
std::exception_ptr thrown_by(const std::function<void()>& f) {
  try {
    f();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// The status of the Error `thrown` holds; 0 for nothing, -1 for another exception.
int status_of_thrown(const std::exception_ptr& thrown) {
  if (!thrown) return 0;
  try {
    std::rethrow_exception(thrown);
  } catch (const Error& e) {
    return e.status();
  } catch (...) {
    return -1;
  }
}

TEST(OpenFailure, SaysWhatTheErrnoMeansToAClient) {
  for (int missing : {ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG}) {
    EXPECT_EQ(open_failure(missing).status(), 404) << missing;
    EXPECT_STREQ(open_failure(missing).what(), "no such image");
  }
  for (int forbidden : {EACCES, EPERM}) EXPECT_EQ(open_failure(forbidden).status(), 403);
  for (int busy : {EMFILE, ENFILE, ENOMEM, ENOBUFS}) {
    EXPECT_EQ(open_failure(busy).status(), 503) << busy;
    EXPECT_TRUE(std::string(open_failure(busy).what()).starts_with("server busy, try again"));
  }
  EXPECT_EQ(open_failure(EIO).status(), 500);
  EXPECT_EQ(std::string(open_failure(EIO).what()), "cannot open the image: Input/output error");
}

TEST(OpenImageFile, OpensReadOnlyAndCloseOnExec) {
  const fs::path dir = testing::make_temp_dir("tessera-open");
  const fs::path file = dir / "a.tif";
  testing::write_pnm(dir / "a.ppm", testing::make_pattern(64, 48, 3));
  fs::copy_file(dir / "a.ppm", file);
  const int fd = open_image_file(file);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  char byte = 0;
  EXPECT_EQ(::write(fd, &byte, 1), -1);  // read-only
  ::close(fd);
  EXPECT_EQ(status_of([&] { open_image_file(dir / "missing.tif"); }), 404);
  EXPECT_EQ(status_of([&] { open_image_file(file / "below"); }), 404);  // ENOTDIR
  fs::remove_all(dir);
}

// Lowers this process's descriptor limit to none while it lives.
class NoDescriptorsLeft {
 public:
  NoDescriptorsLeft() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit none = saved_;
    none.rlim_cur = 0;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &none) == 0;
  }
  ~NoDescriptorsLeft() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(OpenImageFile, EveryReaderAnswers503WhenTheProcessIsOutOfDescriptors) {
  const fs::path dir = testing::make_temp_dir("tessera-nofile");
  testing::write_pnm(dir / "p.ppm", testing::make_pattern(128, 96, 3));
  testing::make_pyramid(dir / "p.ppm", dir / "p.tif", 64);
  testing::run_command(
      {"opj_compress", "-i", (dir / "p.ppm").string(), "-o", (dir / "p.jp2").string(), "-n", "3"});
  // Each opens as it should while descriptors are free...
  EXPECT_NO_THROW(TiffSource(dir / "p.tif"));
  EXPECT_NO_THROW(Jp2Source(dir / "p.jp2"));
  EXPECT_NO_THROW(open_image(dir / "p.tif"));

  // UBSan checks an object's dynamic type through a pipe, which takes two
  // descriptors, unless the type was checked before: an Error is made and
  // read here (as each reader was above), and the exceptions below are only
  // looked at once descriptors are back.
  EXPECT_EQ(status_of([] { throw open_failure(EMFILE); }), 503);
  std::exception_ptr sniff, tiff, jp2, direct;
  {
    const NoDescriptorsLeft limit;
    ASSERT_TRUE(limit.ok());
    sniff = thrown_by([&] { open_image(dir / "p.jp2"); });
    tiff = thrown_by([&] { TiffSource source(dir / "p.tif"); });
    jp2 = thrown_by([&] { Jp2Source source(dir / "p.jp2"); });
    direct = thrown_by([&] { open_image_file(dir / "p.tif"); });
  }
  EXPECT_EQ(status_of_thrown(sniff), 503);
  EXPECT_EQ(status_of_thrown(tiff), 503);
  EXPECT_EQ(status_of_thrown(jp2), 503);
  EXPECT_EQ(status_of_thrown(direct), 503);
  // ...and again once they are.
  EXPECT_NO_THROW(open_image(dir / "p.tif"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera
