#include "ingest/hyperloglog.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shadowplane::ingest {
namespace {

HyperLogLog Of(int from, int to, int precision = HyperLogLog::kDefaultPrecision) {
  HyperLogLog sketch(precision);
  for (int i = from; i < to; ++i) sketch.Add(absl::StrCat("client-", i));
  return sketch;
}

TEST(HyperLogLogTest, EstimatesWithinItsErrorBound) {
  EXPECT_EQ(HyperLogLog().Estimate(), 0);
  // Small counts are nearly exact (linear counting).
  EXPECT_NEAR(Of(0, 10).Estimate(), 10, 0.5);
  EXPECT_NEAR(Of(0, 1000).Estimate(), 1000, 1000 * 0.03);
  // Large counts: standard error 1.6% at precision 12; 4 sigma of slack.
  for (int n : {20000, 200000}) {
    EXPECT_NEAR(Of(0, n).Estimate(), n, n * 0.065) << n;
  }
  // Duplicates do not count.
  HyperLogLog repeated = Of(0, 5000);
  for (int i = 0; i < 5000; ++i) repeated.Add(absl::StrCat("client-", i));
  EXPECT_EQ(repeated.Estimate(), Of(0, 5000).Estimate());
}

TEST(HyperLogLogTest, MergeIsTheUnion) {
  HyperLogLog a = Of(0, 30000);
  HyperLogLog b = Of(20000, 50000);  // 10000 in common
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_NEAR(a.Estimate(), 50000, 50000 * 0.065);
  EXPECT_EQ(a.Serialize(), Of(0, 50000).Serialize()) << "union of registers, order-free";
  HyperLogLog other_precision(10);
  EXPECT_EQ(a.Merge(other_precision).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HyperLogLogTest, SerialisesAndRefusesWhatIsNotASketch) {
  HyperLogLog sketch = Of(0, 777, 10);
  const std::string bytes = sketch.Serialize();
  EXPECT_EQ(bytes.size(), 2u + 1024u);
  auto parsed = HyperLogLog::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->precision(), 10);
  EXPECT_EQ(parsed->Estimate(), sketch.Estimate());
  for (const std::string& bad : {std::string(), std::string("\x03\x0a", 2), bytes.substr(0, 100),
                                 std::string("\x01\x03", 2) + std::string(8, '\0'), bytes + "x"}) {
    EXPECT_EQ(HyperLogLog::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
  std::string high = bytes;
  high[2] = static_cast<char>(60);  // beyond any rank at precision 10
  EXPECT_EQ(HyperLogLog::Parse(high).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HyperLogLogTest, FewClientsSerialiseSparse) {
  HyperLogLog sketch = Of(0, 20);
  const std::string bytes = sketch.Serialize();
  EXPECT_LE(bytes.size(), 2u + 3u * 20u) << "sparse, not 4 KiB";
  auto parsed = HyperLogLog::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Serialize(), bytes);
  EXPECT_EQ(parsed->Estimate(), sketch.Estimate());
  HyperLogLog merged = Of(0, 5000);
  ASSERT_TRUE(merged.Merge(*parsed).ok());
  EXPECT_EQ(merged.Serialize(), Of(0, 5000).Serialize()) << "the first 20 are in 0..5000";
  EXPECT_EQ(HyperLogLog(4).Serialize().size(), 2u) << "empty: no entries";
  std::string out_of_order = bytes;
  std::swap(out_of_order[2], out_of_order[5]);
  std::swap(out_of_order[3], out_of_order[6]);
  std::swap(out_of_order[4], out_of_order[7]);
  EXPECT_EQ(HyperLogLog::Parse(out_of_order).status().code(), absl::StatusCode::kInvalidArgument);
  std::string zero_value = bytes;
  zero_value[4] = 0;
  EXPECT_EQ(HyperLogLog::Parse(zero_value).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HyperLogLog::Parse(bytes.substr(0, bytes.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HyperLogLogTest, TheHashIsStable) {
  // Sketches are stored and merged across processes and versions: the hash must never change.
  // Golden values: FNV-1a 64 then MurmurHash3's fmix64.
  EXPECT_EQ(SketchHash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(SketchHash("192.0.2.1"), 0x8fc433616f773343ULL);
  EXPECT_EQ(SketchHash("client-1"), 0xf93bd2c16ac6882dULL);
  EXPECT_NE(SketchHash("192.0.2.1"), SketchHash("192.0.2.2"));
}

}  // namespace
}  // namespace shadowplane::ingest
