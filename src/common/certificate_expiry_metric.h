// shadowplane_tls_certificate_expiry_timestamp_seconds: when this process's TLS certificate
// (--tls_cert) stops being valid, in Unix seconds. Read from the file at each scrape, so a renewed
// certificate shows at the next one (as gRPC itself picks the file up within the reload
// interval). A certificate that cannot be read gives no sample. Alerted on by
// ShadowplaneCertificateExpiresSoon (deploy/prometheus/alerts.yml).
#ifndef SHADOWPLANE_COMMON_CERTIFICATE_EXPIRY_METRIC_H_
#define SHADOWPLANE_COMMON_CERTIFICATE_EXPIRY_METRIC_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace shadowplane {

class CertificateExpiryMetric final : public prometheus::Collectable {
 public:
  explicit CertificateExpiryMetric(std::string cert_path) : cert_path_(std::move(cert_path)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string cert_path_;
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CERTIFICATE_EXPIRY_METRIC_H_
