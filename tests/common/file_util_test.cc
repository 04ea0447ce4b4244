// Reading files with a bound (common/file_util.h): whole up to the bound, refused past it, a
// device that never ends refused too.
#include "common/file_util.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(ReadFileUpToTest, ReadsWholeFilesWithinTheBoundAndRefusesLargerOnes) {
  char made[] = "/tmp/sp-file-util-XXXXXX";
  ASSERT_NE(mkdtemp(made), nullptr);
  const std::string dir = made;
  const std::string path = dir + "/f";
  std::ofstream(path) << std::string(100000, 'x');
  absl::StatusOr<std::string> whole = ReadFileUpTo(path, 100000);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->size(), 100000u);
  absl::StatusOr<std::string> over = ReadFileUpTo(path, 99999);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(over.status().message(), "over 99999 bytes")) << over.status();
  EXPECT_EQ(ReadFileUpTo(dir + "/missing", 10).status().code(), absl::StatusCode::kNotFound);
  // A device without end is cut off at the bound, not read until memory runs out.
  EXPECT_EQ(ReadFileUpTo("/dev/zero", 1 << 20).status().code(),
            absl::StatusCode::kFailedPrecondition);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace shadowplane
