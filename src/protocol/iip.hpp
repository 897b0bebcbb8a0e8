#pragma once
// IIP, the Internet Imaging Protocol (1.0.5) with iipsrv's extensions: the
// query-string parser, the OBJ replies, IIP's error replies, and the mapping
// of tiles (JTL, PTL, WTL, TIL) and exports (CVT) onto Query.
//
// A request is a query string of COMMAND=value pairs joined by '&', e.g.
//   FIF=image.tif&JTL=3,12
//   FIF=image.tif&OBJ=IIP,1.0&OBJ=Max-size&OBJ=Tile-size&OBJ=Resolution-number
//   FIF=image.tif&WID=400&RGN=0.25,0.25,0.5,0.5&CVT=jpeg
// Command names are case-insensitive; names and values are percent-decoded
// ('+' is a space, as iipsrv's decoder has it). As in iipsrv, a pair with an
// empty name or an empty value after '=' is skipped, and a token without '='
// is a command with no value (INV).
//
// Where iipsrv depends on command order we do not: FIF may come anywhere,
// and WID, HEI, RGN, ROT, QLT, SDS and LYR apply to the image command
// wherever they stand. The first image command (JTL, PTL, WTL, JTLS, TIL,
// CVT, or the DeepZoom=, Zoomify=, IIIF= forms iipsrv also takes in a query
// string) is the request's action; later ones are ignored (iipsrv would send
// a second image after the first).
//
// Replies (what the caller sends):
//   - parse_iip throws Error(400) for a malformed value (JTL=abc, WID=-5,
//     RGN=nan,...), for more than 64 OBJ, and for an empty query string;
//     plain text, as iipsrv answers 400 for invalid arguments.
//   - request.errors non-empty: iip_error_reply(request.errors), status 400,
//     in IIP's error format. These are iipsrv's codes: "2 2 NAME" for an
//     unknown command (ignored when the request has an action, so cache
//     busters like "_=123" do not break tile requests), "3 2 name" for an
//     unknown OBJ, "1 3 name" for an OBJ that needs an image when no FIF was
//     given ("1 3 " with no argument for an image command), and "2 1 QUERY"
//     when the request asks for nothing.
//   - require_implemented(request) throws Error(501) naming the image-
//     processing commands Tessera does not do (CNV, SPECTRA, GAM=log,
//     CNT=eq) that an image request uses. CNT, GAM, INV, CMP, CTW, MINMAX,
//     COL and SHD are parsed into IipRequest::adjust (process/adjust.hpp);
//     a malformed value is Error(400), where iipsrv reads it as 0 or ignores it.
//   - Action::Profile (PFL): iip_profile_line, then format_iip_profile.
//   - Action::Spectra (SPECTRA): iip_spectra_point, then format_iip_spectra.
//   - no action: describe_iip_obj(request.objects, info, options,
//     request.rotation).
//   - Action::Tile: iip_tile_query; Action::Tiles: iip_til_tiles, each tile
//     framed by frame_iip_til_tile; Action::Convert: iip_cvt_query; the
//     DeepZoom/Zoomify/Iiif actions: the raw path to that protocol's parser.
//   - a missing image: the resolver's Error(404), plain text, as iipsrv.
// QLT and LYR are the caller's to pass to the encoder and the JPEG 2000
// reader; SDS names a view of an image sequence, which a single file has
// only one of, so iipsrv and Tessera ignore it for files.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/image_info.hpp"
#include "protocol/query.hpp"
#include "protocol/tiling.hpp"

namespace tessera {

// One line of an IIP error reply: "Error/<length>:<code> <argument>".
struct IipError {
  std::string code;      // "1 3", "2 1", "2 2", "3 2"
  std::string argument;  // what the client sent that caused it
  bool operator==(const IipError&) const = default;
};

// RGN: the region as fractions of the full image, left, top, width, height.
struct IipRegion {
  double x = 0, y = 0, w = 1, h = 1;
  bool operator==(const IipRegion&) const = default;
};

struct IipRequest {
  enum class Action {
    None,      // OBJ replies only
    Tile,      // JTL, PTL, WTL, JTLS: one tile
    Tiles,     // TIL: a rectangle of tiles in IIP's own framing
    Convert,   // CVT: a region at a size
    DeepZoom,  // DeepZoom=path: path goes to parse_deepzoom
    Zoomify,   // Zoomify=path: path goes to parse_zoomify
    Iiif,      // IIIF=path: path goes to parse_iiif
    Profile,   // PFL: the samples along a line, as JSON
    Spectra,   // SPECTRA: one point's value in every view of a sequence, as XML
  };

  std::string fif;       // percent-decoded, otherwise exactly as sent
  bool has_fif = false;  // FIF given (it may still fail to resolve)
  // Known OBJ names, lower-cased, in request order ("iip,1.0", "max-size",
  // "colorspace,*,*", "title", ...).
  std::vector<std::string> objects;

  Action action = Action::None;
  std::string command;           // the action's command, upper-cased ("JTL", "CVT", ...)
  Format format = Format::Jpeg;  // JTL jpeg, PTL png, WTL webp, or CVT's
  int resolution = 0;            // Tile, Tiles: IIP resolution number, 0 the smallest
  uint32_t tile = 0;             // Tile: index ty * tiles_across + tx; Tiles: first
  uint32_t last_tile = 0;        // Tiles: last
  std::string path;              // DeepZoom, Zoomify, Iiif: the value, still percent-encoded
  // Profile: PFL=r:x1,y1-x2,y2, a line in the pixels of resolution r.
  // Spectra: SPECTRA=r,tile,x,y, the point (x1, y1) of that tile.
  uint32_t line_x1 = 0, line_y1 = 0, line_x2 = 0, line_y2 = 0;

  uint32_t width = 0;   // WID; 0 when not given
  uint32_t height = 0;  // HEI; 0 when not given
  std::optional<IipRegion> region;
  RotationSpec rotation;  // ROT: 0, 90, 180, 270; "!" mirrors first
  int quality = -1;       // QLT: 0..100; -1 when not given
  int layers = 0;         // LYR: quality layers to decode; 0 when not given
  int view_x = 0;         // SDS: horizontal and vertical view angles of an
  int view_y = 90;        // image sequence (a single image has 0, 90 only)

  // CNT, GAM, INV, CMP, CTW, MINMAX, COL, SHD: applied to tiles and CVT alike.
  Adjustments adjust;
  // Image-processing commands present that Tessera does not do (CNV,
  // SPECTRA, GAM=log, CNT=eq), in order.
  std::vector<std::string> unimplemented;
  // What to reply instead of anything else, in order; see above.
  std::vector<IipError> errors;
};

// Throws Error(400) for an empty query string or a malformed value.
IipRequest parse_iip(std::string_view query_string);

// Throws Error(501) naming the image-processing commands of a request whose
// action they would change. A request of OBJ replies only is not affected.
void require_implemented(const IipRequest& request);

struct IipOptions {
  // Add iipsrv's virtual resolutions: below the smallest stored level,
  // floor-halved levels until one fits in a single tile.
  bool virtual_levels = true;
  uint32_t max_cvt = 5000;      // MAX_CVT: CVT output fits in max_cvt^2; 0 for none
  bool allow_upscaling = true;  // ALLOW_UPSCALING: CVT may exceed the region's pixels
  // Per band; empty: 0 and the sample type's maximum, as iipsrv without
  // SMinSampleValue/SMaxSampleValue tags.
  std::vector<double> sample_min, sample_max;
  // The views of an image sequence (serve/image_sequence.hpp): what
  // OBJ=Horizontal-views and Vertical-views list. A single image has one.
  std::vector<int> horizontal_views = {0}, vertical_views = {90};
};

// The image's IIP resolutions; index r is resolution number r (0 the smallest).
std::vector<ProtocolLevel> iip_levels(const ImageInfo& info, const IipOptions& options = {});

struct IipReply {
  int status = 200;
  std::string content_type = "application/vnd.netfpx";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
};

// The reply to OBJ requests, line by line as iipsrv writes them, each line
// ending in CRLF. "iip,*" puts "IIP:1.0" first whatever its position (iipsrv
// 1.1 writes the protocol line before the others). Max-size swaps width and
// height for a rotation of 90 or 270. Metadata fields are IIP strings,
// "name/length:value"; Metadata is one JSON object (application/json) of the
// non-empty fields. An unknown name makes the whole reply an error reply.
IipReply describe_iip_obj(const std::vector<std::string>& objects, const ImageInfo& info,
                          const IipOptions& options = {}, const RotationSpec& rotation = {});

// "Error/<n>:<code> <argument>\r\n", n the length of "<code> <argument>".
// The argument is made printable and cut to a short line.
std::string format_iip_error(const IipError& error);

// Status 400, application/vnd.netfpx, one error line each, with iipsrv's
// Cache-Control and Content-Disposition headers.
IipReply iip_error_reply(const std::vector<IipError>& errors);

// Action::Tile: the tile as an image request (region in full-resolution
// pixels, exact output size). A 180 degree rotation counts tiles from the
// other end, as iipsrv does. Throws Error(404) for a resolution or tile that
// does not exist.
Query iip_tile_query(const IipRequest& request, const ImageInfo& info,
                     const IipOptions& options = {});

// Action::Convert: RGN (or the whole image) at the size WID and HEI ask for,
// fitted inside both when both are given, at full resolution when neither
// is, and within max_cvt. Throws Error(400) for a region outside the image.
Query iip_cvt_query(const IipRequest& request, const ImageInfo& info,
                    const IipOptions& options = {});

// Action::Tiles: the tiles of the rectangle whose corners are the first and
// last tiles, column by column as iipsrv sends them. Throws Error(404) as
// iip_tile_query, and Error(400) past kMaxIipTilTiles tiles.
inline constexpr uint32_t kMaxIipTilTiles = 256;
struct IipTilTile {
  uint64_t index = 0;
  Query query;
};
std::vector<IipTilTile> iip_til_tiles(const IipRequest& request, const ImageInfo& info,
                                      const IipOptions& options = {});

// PFL: the points of the request's line in the pixels of its resolution,
// from (x1, y1) towards (x2, y2), the end left out as iipsrv does: a step of
// one pixel along the longer axis, the other rounded to the nearest pixel;
// one point when both ends are the same. Throws Error(404) for a resolution
// the image does not have and Error(400) for a line that leaves it.
struct IipProfileLine {
  const ProtocolLevel* level = nullptr;  // of iip_levels(info, options)
  std::vector<std::pair<uint32_t, uint32_t>> points;
};
IipProfileLine iip_profile_line(const IipRequest& request,
                                const std::vector<ProtocolLevel>& levels);

// SPECTRA: the point of the request (its tile, then x, y inside the tile)
// in the pixels of its resolution. Throws Error(404) for a resolution or
// tile the image does not have, Error(400) for a point outside the tile.
std::pair<uint32_t, uint32_t> iip_spectra_point(const IipRequest& request,
                                                const std::vector<ProtocolLevel>& levels,
                                                const ImageInfo& info);

// The reply to SPECTRA, iipsrv's XML: for each (wavelength, reflectance) a
// <point>, the reflectance with six decimals.
std::string format_iip_spectra(const std::vector<std::pair<int, double>>& points);

// The reply to PFL: {"profile": [...]} with each point's samples in band
// order, as iipsrv writes it (a tab before the key, one line of values).
std::string format_iip_profile(const std::vector<double>& samples);

// One TIL tile in IIP's framing: "Tile,<r>,<n>,0/<len + 8>:", the IIP
// compression type (2: JPEG) and FlashPix sub-type as 4 bytes each, the JPEG
// data, and CRLF.
std::string frame_iip_til_tile(int resolution, uint64_t index, std::string_view jpeg);

}  // namespace tessera
