#pragma once
// Percent-decoding (RFC 3986) of URL parts, shared by every protocol parser.
// Decoding is strict: a '%' not followed by two hex digits is a client error,
// never passed through, so that one URL cannot mean two things.

#include <string>
#include <string_view>

namespace tessera {

// Decodes %XX escapes (either hex case) in a path segment. '+' stays '+': it
// means space only in query strings. Throws Error(400) on a malformed escape.
std::string percent_decode(std::string_view encoded);

// The query-string form (application/x-www-form-urlencoded): as above, and
// '+' decodes to a space.
std::string percent_decode_query(std::string_view encoded);

// Encodes a decoded path for use in a URL: unreserved characters (RFC 3986)
// and '/' stay, every other byte becomes %XX.
std::string percent_encode_path(std::string_view decoded);

// `text` made safe to quote inside a one-line error reason: printable ASCII
// is kept, every other byte becomes \xHH, and long text is cut with "...".
std::string quote_for_reason(std::string_view text);

}  // namespace tessera
