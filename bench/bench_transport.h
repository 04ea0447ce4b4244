// The benchmarks' clients: plaintext, or TLS checked against the CA that deploy/local-ca.sh made
// in a directory (its ca.pem), as the benchmark scripts' --tls runs set them up.
#ifndef SHADOWPLANE_BENCH_BENCH_TRANSPORT_H_
#define SHADOWPLANE_BENCH_BENCH_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/transport_security.h"

namespace shadowplane::bench {

// Plaintext when `tls_dir` is empty; otherwise TLS with `tls_dir`/ca.pem as the only root.
inline absl::StatusOr<std::shared_ptr<const TransportSecurity>> ClientTransport(
    const std::string& tls_dir) {
  if (tls_dir.empty()) return TransportSecurity::Insecure();
  TlsFiles files;
  files.ca = tls_dir + "/ca.pem";
  return TransportSecurity::ForClient(files);
}

}  // namespace shadowplane::bench

#endif  // SHADOWPLANE_BENCH_BENCH_TRANSPORT_H_
