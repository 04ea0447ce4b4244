// Reading files with a bound (common/file_util.h): whole up to the bound, refused past it, a
// device that never ends refused too.
#include "common/file_util.h"

#include <pthread.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace shadowplane {
namespace {

// The metrics endpoint reads certificates on its own threads, whose stacks are small (civetweb's):
// a 64 KiB buffer on the stack overflowed one under AddressSanitizer. Read on a 48 KiB stack.
TEST(ReadFileUpToTest, ReadsOnAThreadWithASmallStack) {
  char made[] = "/tmp/sp-file-util-XXXXXX";
  ASSERT_NE(mkdtemp(made), nullptr);
  const std::string path = std::string(made) + "/f";
  std::ofstream(path) << std::string(200000, 'y');
  struct Read {
    std::string path;
    absl::StatusOr<std::string> result;
  } read{path, absl::UnknownError("not run")};
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 48 * 1024), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                +[](void* arg) -> void* {
                  auto* r = static_cast<Read*>(arg);
                  r->result = ReadFileUpTo(r->path, 1 << 20);
                  return nullptr;
                },
                &read),
            0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
  ASSERT_TRUE(read.result.ok()) << read.result.status();
  EXPECT_EQ(read.result->size(), 200000u);
  unlink(path.c_str());
  rmdir(made);
}

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
