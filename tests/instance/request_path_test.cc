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

// Only the exact shape of a sync's temporary name is reserved; a user's ".shadowplane-sync-notes"
// is an ordinary name, and so is a component of 255 bytes.
TEST(RequestPathTest, RefusesOnlyTheReservedTemporaryShape) {
  for (const char* target :
       {"/.shadowplane-sync-0123456789abcdef", "/dir/.shadowplane-sync-00000000000000ff/x"}) {
    auto path = ResolveRequestPath(target);
    EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_NE(path.status().message().find("reserved"), std::string::npos) << path.status();
  }
  for (const char* target : {"/.shadowplane-sync-notes", "/.shadowplane-sync-0123456789ABCDEF",
                             "/.shadowplane-sync-0123456789abcdef0", "/.shadowplane-sync-"}) {
    EXPECT_TRUE(ResolveRequestPath(target).ok()) << target;
  }
  const std::string longest(255, 'n');
  EXPECT_EQ(*ResolveRequestPath("/" + longest), longest);
  EXPECT_EQ(ResolveRequestPath("/" + longest + "n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shadowplane::instance
