#include "serve/entity_tag.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(EntityTag, IsQuotedAndFollowsTheBytes) {
  const std::string tag = entity_tag("tile bytes");
  ASSERT_GE(tag.size(), 3u);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_EQ(tag, entity_tag(std::string("tile ") + "bytes"));
  EXPECT_NE(tag, entity_tag("tile bytez"));
  EXPECT_NE(entity_tag(""), entity_tag(std::string(1, '\0')));
}

TEST(IfNoneMatch, ComparesWeaklyOverAList) {
  const std::string tag = entity_tag("x");
  EXPECT_TRUE(if_none_match_matches(tag, tag));
  EXPECT_TRUE(if_none_match_matches("W/" + tag, tag));
  EXPECT_TRUE(if_none_match_matches("\"other\", " + tag + " ,\"more\"", tag));
  EXPECT_TRUE(if_none_match_matches("*", tag));
  EXPECT_FALSE(if_none_match_matches("", tag));
  EXPECT_FALSE(if_none_match_matches("\"other\", W/\"more\"", tag));
  EXPECT_FALSE(if_none_match_matches(entity_tag("y"), tag));
}

}  // namespace
}  // namespace tessera
