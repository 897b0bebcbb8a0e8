#pragma once
// JPEG-compressed TIFF tiles as JPEG files, for CODEC_PASSTHROUGH. A TIFF
// stores each tile as an abbreviated JPEG stream whose quantisation and
// Huffman tables sit once in the JPEGTables tag, and encodes the tiles at the
// right and bottom edges padded to the full tile size. Splicing the tables
// back in and shrinking the frame header to the part of the tile inside the
// image gives a stand-alone JPEG without decoding a single block.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

// What the TIFF says its JPEG tiles hold (PhotometricInterpretation).
enum class JpegColour {
  Grey,   // one component
  YCbCr,  // three, numbered 1, 2, 3: what a JPEG without markers means
  Rgb,    // three, not colour-transformed, not subsampled: as vips writes from Q 90
};

// The stand-alone JPEG of a stored tile: `tile` with the DQT, DHT and DRI
// segments of `tables` (a JPEGTables tag, SOI ... EOI; empty when the file
// has none) inserted after its SOI, and its frame header saying width x
// height. An RGB tile also gets an Adobe segment saying "no transform", the
// one sign of RGB that every decoder reads. nullopt whenever the result
// might not decode to those pixels in every decoder:
// - a stream that is not one 8-bit sequential Huffman scan of every
//   component, or whose components do not fit `colour`;
// - a stream with its own Adobe segment, or an RGB one with a JFIF segment:
//   decoders would read their colours differently from libtiff;
// - a frame smaller than width x height, or a narrower width that changes
//   the number of blocks per row (a shorter height only leaves data after
//   the last row, which decoders skip);
// - anything malformed. Nothing is read outside the two views.
std::optional<std::string> complete_jpeg_tile(std::string_view tables, std::string_view tile,
                                              uint32_t width, uint32_t height, JpegColour colour);

}  // namespace tessera
