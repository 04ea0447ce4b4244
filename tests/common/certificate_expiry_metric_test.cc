// The certificate expiry metric reads the file at each scrape: a renewal shows at once, a missing
// file gives no sample.
#include "common/certificate_expiry_metric.h"

#include <filesystem>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "support/child_process.h"
#include "support/local_ca.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;

// Days from now to the metric's one sample; -1 when there is none.
double DaysLeft(const CertificateExpiryMetric& metric) {
  const std::vector<prometheus::MetricFamily> families = metric.Collect();
  EXPECT_EQ(families.size(), 1u);
  if (families.empty() || families[0].metric.empty()) return -1;
  EXPECT_EQ(families[0].name, "shadowplane_tls_certificate_expiry_timestamp_seconds");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Gauge);
  return (families[0].metric[0].gauge.value -
          absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch())) /
         86400;
}

TEST(CertificateExpiryMetricTest, ReadsTheCertificateAtEachScrape) {
  const std::string dir = testing::MakeTempDir("sp-cert-expiry");
  ASSERT_TRUE(testing::MakeLocalCa(dir, {}).ok());
  const CertificateExpiryMetric metric(dir + "/server.pem");
  EXPECT_NEAR(DaysLeft(metric), 825, 1);
  // Renewed, here for a day: the next scrape says so.
  fs::remove(dir + "/server.pem");
  fs::remove(dir + "/server.key");
  ASSERT_TRUE(testing::MakeLocalCa(dir, {}, {}, /*valid_days=*/1).ok());
  EXPECT_NEAR(DaysLeft(metric), 1, 0.01);
  fs::remove(dir + "/server.pem");
  EXPECT_EQ(DaysLeft(metric), -1);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace shadowplane
