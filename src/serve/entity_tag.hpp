#pragma once
// Entity tags (RFC 9110 §8.8.3) for image replies: a client or proxy that
// holds a reply revalidates it with If-None-Match and gets 304, no body.

#include <string>
#include <string_view>

namespace tessera {

// A strong entity tag for `body`, quoted: a digest of the bytes and their
// length, the same in every process of the same build, so that several
// FastCGI processes behind one proxy agree.
std::string entity_tag(std::string_view body);

// Whether an If-None-Match header value (a list of tags, or "*") names
// `tag`, by the weak comparison RFC 9110 §13.1.2 prescribes for it.
bool if_none_match_matches(std::string_view header, std::string_view tag);

}  // namespace tessera
