// The freeze model kept in PostgreSQL (label pg): the default before enough cutovers, a refit after
// each one, the same model read back by another keeper (another replica), bad samples refused.
#include "migration/freeze_model_keeper.h"

#include "gtest/gtest.h"
#include "support/test_database.h"

namespace shadowplane::migration {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

class FreezeModelKeeperTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    cutovers_ = std::make_unique<store::CutoverRepository>(pool_.get());
  }
  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  std::unique_ptr<store::CutoverRepository> cutovers_;
};

TEST_F(FreezeModelKeeperTest, RefitsAfterEveryCutoverAndEveryReplicaReadsTheSameModel) {
  FreezeModelKeeper keeper(cutovers_.get(), &clock_);
  auto before = keeper.Current();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->samples, 0) << "the default";
  EXPECT_DOUBLE_EQ(before->base_seconds, DefaultFreezeModel().base_seconds);
  FreezeModel last;
  for (int i = 0; i < 12; ++i) {
    const int64_t mib = 10 * (i % 4) + i, files = 1 + (i * 7) % 20;
    const double seconds = 0.2 + 0.01 * mib + 0.02 * files + (i % 2 ? 0.005 : -0.005);
    auto m = keeper.Record("", {mib * kMiB, files, seconds});
    ASSERT_TRUE(m.ok()) << m.status();
    last = *m;
    clock_.Advance(absl::Minutes(1));
    EXPECT_EQ(m->samples, i + 1 < kMinSamples ? 0 : i + 1) << i;
  }
  EXPECT_NEAR(last.base_seconds, 0.2, 0.02);
  EXPECT_NEAR(last.seconds_per_mib, 0.01, 0.001);
  EXPECT_NEAR(last.seconds_per_file, 0.02, 0.002);
  FreezeModelKeeper other(cutovers_.get(), &clock_);
  auto read = other.Current();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->samples, 12);
  EXPECT_DOUBLE_EQ(read->seconds_per_mib, last.seconds_per_mib);
  EXPECT_DOUBLE_EQ(read->residual_p95_seconds, last.residual_p95_seconds);
  EXPECT_EQ(cutovers_->Recent(100)->size(), 12u);

  EXPECT_EQ(keeper.Record("", {-1, 1, 1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keeper.Record("", {1, 1, NAN}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cutovers_->Recent(100)->size(), 12u) << "nothing stored";
}

}  // namespace
}  // namespace shadowplane::migration
