// PatchApplier on real files: a corrupt or truncated delta is refused and the old file stays.
#include "sync/patch_applier.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <limits>

#include "gtest/gtest.h"
#include "support/child_process.h"
#include "sync/delta_encoder.h"
#include "sync/safe_path.h"
#include "sync/signature.h"
#include "sync/sync_limits.h"
#include "sync/sync_test_support.h"

namespace shadowplane::sync {
namespace {

namespace fs = std::filesystem;
using testing::RandomBytes;
using testing::ReadFileOrDie;
using testing::WriteFile;

class PatchApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-patch");
    old_ = RandomBytes(1 << 20, 5);
    new_ = old_;
    new_.replace(4096, 100, RandomBytes(100, 6));
    new_ += RandomBytes(5000, 7);
    WriteFile(root_ + "/src/f", new_);
    WriteFile(root_ + "/dst/f", old_);
    // The target's signature, the source's delta against it.
    absl::StatusOr<DeltaResult> result = EncodeSourceAgainstTarget(&delta_);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_FALSE(result->changed);
    result_ = *result;
    EXPECT_LT(delta_.size(), 20000u);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The delta of the source's f against the signature of the target's f, as a round makes it.
  absl::StatusOr<DeltaResult> EncodeSourceAgainstTarget(std::string* delta) {
    UniqueFd basis(open((root_ + "/dst/f").c_str(), O_RDONLY));
    struct stat st {};
    if (fstat(basis.get(), &st) != 0) return absl::InternalError("no basis");
    auto sig = SignFile(basis.get(), st.st_size);
    if (!sig.ok()) return sig.status();
    LoadedSignature loaded;
    if (absl::Status s = loaded.Update(*sig); !s.ok()) return s;
    if (absl::Status s = loaded.Finish(); !s.ok()) return s;
    auto src = OpenDirectory(root_ + "/src");
    if (!src.ok()) return src.status();
    return EncodeFileDelta(src->get(), "f", loaded.get(), [delta](const char* d, size_t n) {
      delta->append(d, n);
      return absl::OkStatus();
    });
  }

  absl::Status Apply(const std::string& delta,
                     int64_t max_size = std::numeric_limits<int64_t>::max(),
                     int64_t* written = nullptr) {
    auto dir = OpenDirectory(root_ + "/dst");
    if (!dir.ok()) return dir.status();
    UniqueFd basis(open((root_ + "/dst/f").c_str(), O_RDONLY));
    auto applier = PatchApplier::Begin(dir->get(), "f", std::move(basis), max_size);
    if (!applier.ok()) return applier.status();
    absl::Status fed = (*applier)->Feed(delta.data(), delta.size());
    if (written != nullptr) *written = (*applier)->bytes_written();
    if (!fed.ok()) return fed;
    return (*applier)
        ->Commit(result_.sha256, result_.identity.size, 0644, result_.identity.mtime_ns)
        .status();
  }

  size_t Entries() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(root_ + "/dst")) n += e.exists();
    return n;
  }

  std::string root_, old_, new_, delta_;
  DeltaResult result_;
};

TEST_F(PatchApplierTest, AppliesAGoodDelta) {
  ASSERT_TRUE(Apply(delta_).ok());
  EXPECT_EQ(ReadFileOrDie(root_ + "/dst/f"), new_);
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(PatchApplierTest, TruncatedDeltaIsRefusedAndTheFileUnchanged) {
  absl::Status s = Apply(delta_.substr(0, delta_.size() / 2));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(ReadFileOrDie(root_ + "/dst/f"), old_);
  EXPECT_EQ(Entries(), 1u) << "no temporary file may stay";
}

TEST_F(PatchApplierTest, CorruptDeltaIsRefusedAndTheFileUnchanged) {
  for (size_t at : {size_t{0}, size_t{5}, delta_.size() / 2, delta_.size() - 3}) {
    std::string corrupt = delta_;
    corrupt[at] ^= 0x5a;
    absl::Status s = Apply(corrupt);
    EXPECT_FALSE(s.ok()) << "corruption at " << at << " went unnoticed";
    EXPECT_EQ(ReadFileOrDie(root_ + "/dst/f"), old_);
    EXPECT_EQ(Entries(), 1u);
  }
  std::string garbage = RandomBytes(1000, 8);
  EXPECT_FALSE(Apply(garbage).ok());
  EXPECT_EQ(ReadFileOrDie(root_ + "/dst/f"), old_);
}

// A few bytes of COPY commands can repeat the basis without end: the applier stops at the most
// the file's declared size allows, before writing past it, and the old version stays.
TEST_F(PatchApplierTest, ADeltaWritingPastItsBoundIsRefusedBeforeTheDiskFills) {
  // The source's file is the target's 1 MiB basis eight times over: a delta of eight COPYs.
  std::string repeated;
  for (int i = 0; i < 8; ++i) repeated += old_;
  WriteFile(root_ + "/src/f", repeated);
  std::string delta;
  ASSERT_TRUE(EncodeSourceAgainstTarget(&delta).ok());
  ASSERT_LT(delta.size(), 4096u) << "not the small delta this test needs";

  const int64_t bound = 3 << 20;
  int64_t written = -1;
  absl::Status s = Apply(delta, bound, &written);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find("writes past 3145728 bytes"), std::string::npos) << s;
  EXPECT_GT(written, 0);
  EXPECT_LE(written, bound);
  EXPECT_EQ(ReadFileOrDie(root_ + "/dst/f"), old_);
  EXPECT_EQ(Entries(), 1u) << "no temporary file may stay";
}

TEST(MaxRebuiltSizeTest, TwiceTheDeclaredSizePlusTheSlackWithoutOverflow) {
  SyncLimits limits;
  limits.delta_slack_bytes = 100;
  EXPECT_EQ(MaxRebuiltSize(limits, 0), 100);
  EXPECT_EQ(MaxRebuiltSize(limits, 1000), 2100);
  EXPECT_EQ(MaxRebuiltSize(limits, -5), 100);
  EXPECT_EQ(MaxRebuiltSize(limits, std::numeric_limits<int64_t>::max()),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MaxRebuiltSize(limits, std::numeric_limits<int64_t>::max() / 2),
            std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace shadowplane::sync
