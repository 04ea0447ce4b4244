// The channel cache keeps one channel per endpoint and peer, and no more than its bound.
#include "common/grpc_channel_cache.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(GrpcChannelCacheTest, SharesChannelsAndDropsTheLeastRecentlyUsedPastItsBound) {
  GrpcChannelCache cache(nullptr, 2);
  auto a = cache.Get("127.0.0.1:1", "agent-a");
  EXPECT_EQ(cache.Get("127.0.0.1:1", "agent-a"), a) << "shared";
  EXPECT_NE(cache.Get("127.0.0.1:1", "agent-b"), a) << "another peer identity, another channel";
  EXPECT_EQ(cache.size(), 2u);
  // "a" used last: the next new endpoint drops "b".
  EXPECT_EQ(cache.Get("127.0.0.1:1", "agent-a"), a);
  cache.Get("127.0.0.1:2", "agent-c");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Get("127.0.0.1:1", "agent-a"), a) << "the recently used one stays";
  // A peer naming endpoint after endpoint never grows the cache past its bound.
  for (int i = 0; i < 1000; ++i) cache.Get(absl::StrCat("127.0.0.1:", 3 + i), "agent-x");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Get("127.0.0.1:1", "agent-a"), a) << "dropped, made anew";
}

}  // namespace
}  // namespace shadowplane
