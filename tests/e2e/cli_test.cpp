// The command line explains itself and refuses bad flags in one line.

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/test_images.hpp"

namespace tessera::testing {
namespace {

int line_count(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Cli, HelpExplainsTheCommands) {
  std::string out;
  EXPECT_EQ(run_tessera({"--help"}, out), 0);
  EXPECT_NE(out.find("serve"), std::string::npos) << out;
  EXPECT_NE(out.find("info"), std::string::npos) << out;
  EXPECT_NE(out.find("convert"), std::string::npos) << out;
  EXPECT_EQ(run_tessera({"convert", "--help"}, out), 0);
  for (const char* flag : {"--tile", "--compression", "--quality"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag << "\n" << out;
  }
  EXPECT_EQ(run_tessera({"serve", "--help"}, out), 0);
  for (const char* flag : {"--host", "--port", "--threads", "--jpeg-quality", "--cors"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag << "\n" << out;
  }
}

TEST(Cli, BadFlagsExitNonZeroWithOneLine) {
  const auto dir = make_temp_dir("tessera-cli");
  const std::vector<std::vector<std::string>> bad = {
      {"serve"},
      {"serve", "/no/such/folder"},
      {"serve", dir.string(), "--port", "abc"},
      {"serve", dir.string(), "--port", "70000"},
      {"serve", dir.string(), "--threads", "0"},
      {"serve", dir.string(), "--jpeg-quality", "101"},
      {"serve", dir.string(), "--no-such-flag"},
      {"frobnicate"},
      {},
  };
  for (const auto& args : bad) {
    std::string out;
    EXPECT_NE(run_tessera(args, out), 0) << out;
    EXPECT_EQ(line_count(out), 1) << out;
    EXPECT_EQ(out.rfind("tessera: ", 0), 0u) << out;
  }
  std::filesystem::remove_all(dir);
}

TEST(Cli, InvalidEnvironmentStopsStartUp) {
  const auto dir = make_temp_dir("tessera-cli");
  for (const char* env : {"JPEG_QUALITY=abc", "JPEG_QUALITY=0", "VERBOSITY=-1", "MAX_CVT=big"}) {
    std::string out;
    EXPECT_NE(run_tessera({"serve", dir.string(), "--port", "0"}, out, {env}), 0) << env;
    EXPECT_EQ(line_count(out), 1) << env << ": " << out;
  }
  std::filesystem::remove_all(dir);
}

TEST(Cli, InfoPrintsTheLevels) {
  const auto dir = make_temp_dir("tessera-cli");
  write_pnm(dir / "p.ppm", make_pattern(600, 400, 3));
  make_pyramid(dir / "p.ppm", dir / "p.tif", 256);
  std::string out;
  EXPECT_EQ(run_tessera({"info", (dir / "p.tif").string()}, out), 0) << out;
  EXPECT_NE(out.find("600x400"), std::string::npos) << out;
  EXPECT_NE(out.find("level 1: 300x200"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::testing
