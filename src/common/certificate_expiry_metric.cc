#include "common/certificate_expiry_metric.h"

#include "absl/time/time.h"
#include "common/transport_security.h"

namespace shadowplane {

std::vector<prometheus::MetricFamily> CertificateExpiryMetric::Collect() const {
  prometheus::MetricFamily family;
  family.name = "shadowplane_tls_certificate_expiry_timestamp_seconds";
  family.help = "When this process's TLS certificate (--tls_cert) expires, Unix seconds";
  family.type = prometheus::MetricType::Gauge;
  if (absl::StatusOr<absl::Time> not_after = CertificateNotAfter(cert_path_); not_after.ok()) {
    prometheus::ClientMetric metric;
    metric.gauge.value = absl::ToDoubleSeconds(*not_after - absl::UnixEpoch());
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

}  // namespace shadowplane
