// iipsrv's variables: each in the settings table with iipsrv's default and
// meaning, invalid values refused in one line, and FILESYSTEM_PREFIX /
// FILESYSTEM_SUFFIX naming files under the image root and nowhere else.

#include "serve/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <set>
#include <stdexcept>

#include "common/error.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;

const Setting* find_setting(std::string_view variable) {
  for (const Setting& s : settings()) {
    if (s.variable == variable) return &s;
  }
  return nullptr;
}

Config with_setting(std::string_view variable, std::string_view value, Config config = {}) {
  const Setting* setting = find_setting(variable);
  if (setting == nullptr) throw std::logic_error("no setting " + std::string(variable));
  setting->apply(config, value, variable);
  return config;
}

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ConfigSettings, EveryIipsrvVariableIsAFlagWithHelp) {
  for (const char* variable : {"VERBOSITY",
                               "LOGFILE",
                               "JPEG_QUALITY",
                               "PNG_QUALITY",
                               "WEBP_QUALITY",
                               "MAX_IMAGE_CACHE_SIZE",
                               "MAX_METADATA_CACHE_SIZE",
                               "FILESYSTEM_PREFIX",
                               "FILESYSTEM_SUFFIX",
                               "FILENAME_PATTERN",
                               "MAX_CVT",
                               "MAX_LAYERS",
                               "ALLOW_UPSCALING",
                               "INTERPOLATION",
                               "WATERMARK",
                               "WATERMARK_PROBABILITY",
                               "WATERMARK_OPACITY",
                               "MEMCACHED_SERVERS",
                               "MEMCACHED_TIMEOUT",
                               "CORS",
                               "BASE_URL",
                               "URI_MAP",
                               "CACHE_CONTROL",
                               "EMBED_ICC",
                               "MAX_ICC",
                               "CODEC_PASSTHROUGH",
                               "IIIF_VERSION",
                               "COPYRIGHT",
                               "OMP_NUM_THREADS"}) {
    const Setting* s = find_setting(variable);
    ASSERT_NE(s, nullptr) << variable;
    EXPECT_EQ(s->flag.substr(0, 2), "--") << variable;
    EXPECT_FALSE(s->help.empty()) << variable;
    EXPECT_FALSE(s->show(Config{}).empty()) << variable;
  }
  std::set<std::string_view> variables, flags;
  for (const Setting& s : settings()) {
    EXPECT_TRUE(variables.insert(s.variable).second) << s.variable;
    EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
  }
}

TEST(ConfigSettings, DefaultsAreIipsrvs) {
  const Config c;
  EXPECT_EQ(c.verbosity, 1);
  EXPECT_EQ(c.jpeg_quality, 75);
  EXPECT_EQ(c.png_quality, 1);
  EXPECT_EQ(c.webp_quality, 50);
  EXPECT_EQ(c.max_cvt, 5000u);
  EXPECT_EQ(c.max_layers, 0);
  EXPECT_EQ(c.filename_pattern, "_pyr_");
  EXPECT_EQ(c.filesystem_prefix, "");
  EXPECT_EQ(c.filesystem_suffix, "");
  EXPECT_TRUE(c.allow_upscaling);
  EXPECT_EQ(c.interpolation, 1);
  EXPECT_EQ(c.cache_control, "max-age=86400");
  EXPECT_TRUE(c.embed_icc);
  EXPECT_TRUE(c.codec_passthrough);
  EXPECT_DOUBLE_EQ(c.max_image_cache_mb, 10.0);
  EXPECT_EQ(c.max_metadata_cache, 1000);
  EXPECT_EQ(c.memcached_timeout, 86400u);
  EXPECT_DOUBLE_EQ(c.watermark_probability, 1.0);
  EXPECT_DOUBLE_EQ(c.watermark_opacity, 1.0);
  EXPECT_EQ(c.iiif_version, 3);
  EXPECT_TRUE(c.uri_map.empty());
  EXPECT_FALSE(c.invoked_as_iipsrv);

  // Where `tessera serve` chose otherwise, iipsrv.fcgi keeps iipsrv's.
  const Config iipsrv = iipsrv_defaults();
  EXPECT_TRUE(iipsrv.invoked_as_iipsrv);
  EXPECT_EQ(iipsrv.cors, "");
  EXPECT_EQ(c.cors, "*");
  EXPECT_EQ(iipsrv.logfile, "/tmp/iipsrv.log");
  EXPECT_EQ(iipsrv.memcached_servers, "localhost");
  EXPECT_EQ(iipsrv.jpeg_quality, c.jpeg_quality);
}

TEST(ConfigSettings, ValidValuesAreRead) {
  EXPECT_EQ(with_setting("PNG_QUALITY", "9").png_quality, 9);
  EXPECT_EQ(with_setting("WEBP_QUALITY", "-1").webp_quality, -1);
  EXPECT_EQ(with_setting("MAX_LAYERS", "-1").max_layers, -1);
  EXPECT_FALSE(with_setting("ALLOW_UPSCALING", "0").allow_upscaling);
  EXPECT_FALSE(with_setting("EMBED_ICC", "0").embed_icc);
  EXPECT_FALSE(with_setting("CODEC_PASSTHROUGH", "0").codec_passthrough);
  EXPECT_EQ(with_setting("MAX_ICC", "-1").max_icc, -1);
  EXPECT_DOUBLE_EQ(with_setting("MAX_IMAGE_CACHE_SIZE", "2.5").max_image_cache_mb, 2.5);
  EXPECT_EQ(with_setting("MAX_METADATA_CACHE_SIZE", "-1").max_metadata_cache, -1);
  EXPECT_EQ(with_setting("MEMCACHED_TIMEOUT", "3600").memcached_timeout, 3600u);
  EXPECT_DOUBLE_EQ(with_setting("WATERMARK_OPACITY", "0.25").watermark_opacity, 0.25);
  EXPECT_DOUBLE_EQ(with_setting("WATERMARK_PROBABILITY", "0").watermark_probability, 0.0);
  EXPECT_EQ(with_setting("CACHE_CONTROL", "no-cache").cache_control, "no-cache");
  EXPECT_EQ(with_setting("CACHE_CONTROL", "").cache_control, "");
  EXPECT_EQ(with_setting("FILESYSTEM_PREFIX", "/srv/images/").filesystem_prefix, "/srv/images/");
  EXPECT_EQ(with_setting("FILESYSTEM_SUFFIX", ".tif").filesystem_suffix, ".tif");
  EXPECT_EQ(with_setting("FILENAME_PATTERN", "_pano_").filename_pattern, "_pano_");
  EXPECT_EQ(with_setting("BASE_URL", "https://example.org/images").base_url,
            "https://example.org/images");
  EXPECT_EQ(with_setting("MEMCACHED_SERVERS", "localhost,10.0.0.2:11212, [::1]:11211, cache-1")
                .memcached_servers,
            "localhost,10.0.0.2:11212, [::1]:11211, cache-1");
  EXPECT_EQ(with_setting("MEMCACHED_SERVERS", "").memcached_servers, "");
  // iipsrv's "no limit" is Tessera's ceiling: an output must still be allocated.
  EXPECT_EQ(with_setting("MAX_CVT", "-1").max_cvt, 1u << 20);
  EXPECT_EQ(with_setting("MAX_CVT", "800").max_cvt, 800u);

  const auto dir = testing::make_temp_dir("tessera-config");
  std::ofstream(dir / "mark.tif") << "x";
  EXPECT_EQ(with_setting("WATERMARK", (dir / "mark.tif").string()).watermark,
            (dir / "mark.tif").string());
  fs::remove_all(dir);
}

TEST(ConfigSettings, InvalidValuesStopWithOneLineNamingTheVariable) {
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"PNG_QUALITY", "10"},
      {"PNG_QUALITY", "fast"},
      {"WEBP_QUALITY", "-2"},
      {"WEBP_QUALITY", "101"},
      {"MAX_CVT", "0"},
      {"MAX_CVT", "-5"},
      {"MAX_CVT", "5000px"},
      {"MAX_LAYERS", "-2"},
      {"ALLOW_UPSCALING", "yes"},
      {"ALLOW_UPSCALING", "2"},
      {"EMBED_ICC", "true"},
      {"MAX_ICC", "-2"},
      {"CODEC_PASSTHROUGH", ""},
      {"MAX_IMAGE_CACHE_SIZE", "-1"},
      {"MAX_IMAGE_CACHE_SIZE", "nan"},
      {"MAX_IMAGE_CACHE_SIZE", "10MB"},
      {"MAX_METADATA_CACHE_SIZE", "-3"},
      {"MEMCACHED_TIMEOUT", "-1"},
      {"MEMCACHED_TIMEOUT", "9999999"},
      {"MEMCACHED_SERVERS", "host:99999"},
      {"MEMCACHED_SERVERS", "bad!host"},
      {"MEMCACHED_SERVERS", "host:"},
      {"MEMCACHED_SERVERS", "[::1"},
      {"WATERMARK", "/no/such/file.tif"},
      {"WATERMARK_OPACITY", "1.5"},
      {"WATERMARK_PROBABILITY", "-0.1"},
      {"CACHE_CONTROL", "max-age=1\r\nSet-Cookie: x=1"},
      {"CORS", "*\n"},
      {"BASE_URL", "example.org"},
      {"BASE_URL", "https://x\r\n"},
      {"FILENAME_PATTERN", "a/b"},
      {"URI_MAP", "iiif"},
      {"URI_MAP", "iiif=>WMS"},
      {"URI_MAP", "iiif=>IIIF iiif=>DeepZoom"},
      {"URI_MAP", "a b=>IIIF"},
      {"URI_MAP", "bad?x=>IIIF"},
      {"IIIF_VERSION", "1"},
      {"INTERPOLATION", "3"},
      {"VERBOSITY", "-1"},
      {"JPEG_QUALITY", "0"},
      {"OMP_NUM_THREADS", "0"},
  };
  for (const auto& [variable, value] : bad) {
    try {
      with_setting(variable, value);
      ADD_FAILURE() << variable << "=" << value << " was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(variable), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(ConfigSettings, UriMapTakesAnyNumberOfMappings) {
  const Config c =
      with_setting("URI_MAP", "iiif=>IIIF deepzoom=>DeepZoom,zoomify=>zoomify /img/iip/=>iip");
  ASSERT_EQ(c.uri_map.size(), 4u);
  EXPECT_EQ(c.uri_map[0], (UriMapping{"iiif", Protocol::Iiif}));
  EXPECT_EQ(c.uri_map[1], (UriMapping{"deepzoom", Protocol::DeepZoom}));
  EXPECT_EQ(c.uri_map[2], (UriMapping{"zoomify", Protocol::Zoomify}));
  EXPECT_EQ(c.uri_map[3], (UriMapping{"img/iip", Protocol::Iip}));
  EXPECT_EQ(find_setting("URI_MAP")->show(c),
            "iiif=>IIIF deepzoom=>DeepZoom zoomify=>Zoomify img/iip=>IIP");
  // iipsrv's empty prefix: every path.
  EXPECT_EQ(with_setting("URI_MAP", "=>IIIF").uri_map,
            (std::vector<UriMapping>{{"", Protocol::Iiif}}));
  EXPECT_TRUE(with_setting("URI_MAP", "").uri_map.empty());
}

TEST(ConfigSettings, ReadEnvironmentReadsTheVariables) {
  const ScopedEnv env({{"PNG_QUALITY", "4"}, {"URI_MAP", "iiif=>IIIF"}, {"EMBED_ICC", "0"}});
  Config c;
  read_environment(c);
  EXPECT_EQ(c.png_quality, 4);
  EXPECT_EQ(c.uri_map.size(), 1u);
  EXPECT_FALSE(c.embed_icc);
}

class ImageFileName : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("tessera-fif");
    root_ = dir_ / "images";
    fs::create_directories(root_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }

  Config config(std::string prefix, std::string suffix = "") const {
    Config c;
    c.image_root = root_;
    c.filesystem_prefix = std::move(prefix);
    c.filesystem_suffix = std::move(suffix);
    return c;
  }
  int status_of(const Config& c, std::string_view id) const {
    try {
      image_file_name(c, id);
      return 200;
    } catch (const Error& e) {
      return e.status();
    }
  }

  fs::path dir_, root_;
};

TEST_F(ImageFileName, RelativeIdentifiersAreUnderTheRoot) {
  EXPECT_EQ(image_file_name(config(""), "sub/a.tif"), "sub/a.tif");
  EXPECT_EQ(image_file_name(config("", ".tif"), "sub/a"), "sub/a.tif");
  EXPECT_EQ(image_file_name(config("sub/"), "a.tif"), "sub/a.tif");
  EXPECT_EQ(image_file_name(config("sub/pyr_", "_v2.tif"), "a"), "sub/pyr_a_v2.tif");
}

TEST_F(ImageFileName, AbsolutePathsMustLieUnderTheRoot) {
  const std::string root = root_.string();
  // iipsrv's common set-up: FILESYSTEM_PREFIX empty, FIF absolute.
  EXPECT_EQ(image_file_name(config(""), root + "/sub/a.tif"), "sub/a.tif");
  // A prefix with and without its slash, and a FIF with a leading one.
  EXPECT_EQ(image_file_name(config(root + "/"), "a.tif"), "a.tif");
  EXPECT_EQ(image_file_name(config(root + "/"), "/a.tif"), "a.tif");
  EXPECT_EQ(image_file_name(config(root), "/sub/a.tif"), "sub/a.tif");
  EXPECT_EQ(image_file_name(config(root + "/", ".tif"), "sub//a"), "sub/a.tif");
  // Everything else is refused before the file system is asked.
  EXPECT_EQ(status_of(config(""), "/etc/passwd"), 403);
  EXPECT_EQ(status_of(config(""), root + "x/a.tif"), 403);  // a sibling sharing the name's start
  EXPECT_EQ(status_of(config(root), "x/a.tif"), 403);       // iipsrv: <root>x/a.tif
  EXPECT_EQ(status_of(config(""), root), 403);              // the root itself is no file
  // ".." stays in the name for the resolver to refuse with 400.
  EXPECT_EQ(image_file_name(config(root + "/"), "../secret.tif"), "../secret.tif");
}

TEST_F(ImageFileName, TheRootMayBeASymlink) {
  const fs::path link = dir_ / "link";
  fs::create_directory_symlink(root_, link);
  Config c = config("");
  c.image_root = link;
  EXPECT_EQ(image_file_name(c, link.string() + "/a.tif"), "a.tif");
  EXPECT_EQ(image_file_name(c, root_.string() + "/a.tif"), "a.tif");
}

TEST_F(ImageFileName, IipsrvRootComesFromImageRootOrThePrefix) {
  Config c = iipsrv_defaults();
  {
    const ScopedEnv env({{"FILESYSTEM_PREFIX", (root_.string() + "/").c_str()}});
    read_iipsrv_environment(c);
    EXPECT_EQ(c.image_root, root_);
  }
  {
    // A prefix that ends in a name part is rooted at its folder.
    c = iipsrv_defaults();
    const ScopedEnv env({{"FILESYSTEM_PREFIX", (root_.string() + "/sub/pyr_").c_str()}});
    read_iipsrv_environment(c);
    EXPECT_EQ(c.image_root, root_ / "sub");
  }
  {
    c = iipsrv_defaults();
    const ScopedEnv env({{"FILESYSTEM_PREFIX", root_.string().c_str()}});
    read_iipsrv_environment(c);
    EXPECT_EQ(c.image_root, root_);
  }
  {
    c = iipsrv_defaults();
    const ScopedEnv env({{"FILESYSTEM_PREFIX", ""}, {"IMAGE_ROOT", root_.string().c_str()}});
    read_iipsrv_environment(c);
    EXPECT_EQ(c.image_root, root_);
    EXPECT_EQ(image_file_name(c, root_.string() + "/sub/a.tif"), "sub/a.tif");
    EXPECT_EQ(status_of(c, "/etc/passwd"), 403);
  }
  {
    // As iipsrv: no prefix, no IMAGE_ROOT, every absolute path.
    c = iipsrv_defaults();
    const ScopedEnv env({{"FILESYSTEM_PREFIX", ""}, {"IMAGE_ROOT", ""}});
    read_iipsrv_environment(c);
    EXPECT_EQ(c.image_root, "/");
    EXPECT_EQ(image_file_name(c, "/srv/a.tif"), "srv/a.tif");
  }
  for (const std::string& prefix : {std::string("/no/such/folder/"), std::string("/etc/")}) {
    c = iipsrv_defaults();
    const ScopedEnv env({{"FILESYSTEM_PREFIX", prefix.c_str()}, {"IMAGE_ROOT", root_.c_str()}});
    EXPECT_THROW(read_iipsrv_environment(c), std::invalid_argument) << prefix;
  }
  {
    c = iipsrv_defaults();
    const ScopedEnv env({{"IMAGE_ROOT", "/no/such/folder"}});
    EXPECT_THROW(read_iipsrv_environment(c), std::invalid_argument);
  }
}

}  // namespace
}  // namespace tessera
