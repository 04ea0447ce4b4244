#include "instance/request_path.h"

#include "gtest/gtest.h"

namespace shadowplane::instance {
namespace {

TEST(RequestPathTest, DecodesOrdinaryPaths) {
  EXPECT_EQ(*ResolveRequestPath("/"), "");
  EXPECT_EQ(*ResolveRequestPath("/a.txt"), "a.txt");
  EXPECT_EQ(*ResolveRequestPath("/dir/sub/file%20name.txt?x=1#frag"), "dir/sub/file name.txt");
  EXPECT_EQ(*ResolveRequestPath("//dir//x/"), "dir/x");
  EXPECT_EQ(*ResolveRequestPath("/..hidden/x..y"), "..hidden/x..y");
}

TEST(RequestPathTest, RefusesTraversalAndEncodedSeparators) {
  for (const char* target :
       {"/../etc/passwd", "/a/../../b", "/a/./b", "/%2e%2e/secret", "/a%2f..%2f..%2fetc", "/a%2F..",
        "/a%5c..%5cb", "/a\\..\\b", "/a%00b", "/a%zz", "/a%2", "relative", ""}) {
    auto path = ResolveRequestPath(target);
    EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument) << target;
  }
}

}  // namespace
}  // namespace shadowplane::instance
