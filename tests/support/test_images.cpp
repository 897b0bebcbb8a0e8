#include "support/test_images.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

namespace tessera::testing {

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void run_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  // popen needs a shell line; quote each argument for it.
  std::string shell;
  for (const auto& a : argv) {
    std::string quoted = "'";
    for (char c : a) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    shell += quoted + "' ";
  }
  shell += "2>&1";
  FILE* pipe = popen(shell.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + line);
  std::string output;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  const int status = pclose(pipe);
  if (status != 0) throw std::runtime_error("command failed: " + line + "\n" + output);
}

Raster make_pattern(uint32_t width, uint32_t height, int bands) {
  Raster r(width, height, bands);
  for (uint32_t y = 0; y < height; ++y) {
    uint8_t* row = r.row(y);
    for (uint32_t x = 0; x < width; ++x) {
      const double fx = double(x) / width, fy = double(y) / height;
      // Gradients that differ per band, plus soft blobs every 64 px, so every
      // tile looks different from its neighbours.
      const double blob = 40.0 * std::sin(x * 0.049) * std::cos(y * 0.053);
      std::array<double, 4> v{
          30 + 180 * fx + blob,
          30 + 180 * fy - blob,
          128 + 90 * std::sin(6.0 * (fx + fy)),
          255.0 * (0.5 + 0.5 * std::cos(3.0 * fx)),
      };
      for (int b = 0; b < bands; ++b) {
        const double value = (bands == 2 && b == 1) ? v[3] : v[b];
        row[x * bands + b] = uint8_t(std::clamp(std::lround(value), 0L, 255L));
      }
    }
  }
  return r;
}

void write_pnm(const std::filesystem::path& path, const Raster& raster) {
  std::ofstream out(path, std::ios::binary);
  const int bands = raster.bands();
  if (bands == 1 || bands == 3) {
    out << (bands == 1 ? "P5\n" : "P6\n") << raster.width() << " " << raster.height() << "\n255\n";
  } else {
    out << "P7\nWIDTH " << raster.width() << "\nHEIGHT " << raster.height() << "\nDEPTH " << bands
        << "\nMAXVAL 255\nTUPLTYPE " << (bands == 2 ? "GRAYSCALE_ALPHA" : "RGB_ALPHA")
        << "\nENDHDR\n";
  }
  for (uint32_t y = 0; y < raster.height(); ++y) {
    out.write(reinterpret_cast<const char*>(raster.row(y)),
              std::streamsize(raster.width() * bands));
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void make_pyramid(const std::filesystem::path& src, const std::filesystem::path& out, int tile_size,
                  const std::vector<std::string>& extra) {
  std::vector<std::string> argv{"vips",          "tiffsave",
                                src.string(),    out.string(),
                                "--tile",        "--pyramid",
                                "--tile-width",  std::to_string(tile_size),
                                "--tile-height", std::to_string(tile_size)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  run_command(argv);
}

Raster box_reduce(const Raster& src, uint32_t factor) {
  const uint32_t w = (src.width() + factor - 1) / factor, h = (src.height() + factor - 1) / factor;
  const int bands = src.bands();
  Raster out(w, h, bands);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      for (int b = 0; b < bands; ++b) {
        double sum = 0;
        int count = 0;
        for (uint32_t sy = y * factor; sy < std::min(src.height(), (y + 1) * factor); ++sy) {
          for (uint32_t sx = x * factor; sx < std::min(src.width(), (x + 1) * factor); ++sx) {
            sum += src.row(sy)[sx * bands + b];
            ++count;
          }
        }
        out.row(y)[x * bands + b] = uint8_t(std::lround(sum / count));
      }
    }
  }
  return out;
}

double mean_abs_diff(const Raster& a, const Raster& b) {
  if (a.width() != b.width() || a.height() != b.height()) {
    throw std::runtime_error("mean_abs_diff: sizes differ");
  }
  const int bands = std::min(a.bands(), b.bands());
  double sum = 0;
  for (uint32_t y = 0; y < a.height(); ++y) {
    for (uint32_t x = 0; x < a.width(); ++x) {
      for (int c = 0; c < bands; ++c) {
        sum += std::abs(int(a.row(y)[x * a.bands() + c]) - int(b.row(y)[x * b.bands() + c]));
      }
    }
  }
  return sum / (double(a.width()) * a.height() * bands);
}

std::string make_icc_profile(bool grey) {
  std::string p(132, '\0');
  const auto put32 = [&p](std::size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[at + i] = char(v >> (24 - 8 * i));
  };
  put32(0, 132);
  put32(8, 0x02100000);  // version 2.1
  p.replace(12, 4, "mntr");
  p.replace(16, 4, grey ? "GRAY" : "RGB ");
  p.replace(20, 4, "XYZ ");
  p.replace(36, 4, "acsp");
  put32(68, 0x0000F6D6);  // the D50 illuminant
  put32(72, 0x00010000);
  put32(76, 0x0000D32D);
  put32(128, 0);  // no tags
  return p;
}

}  // namespace tessera::testing
