// How a process's gRPC traffic is protected: TLS from certificate files, with the peer's
// certificate checked on both sides (mutual TLS), or plaintext when the process was told
// `--insecure` (loopback only, common/loopback.h).
//
// Identities are DNS names in a certificate's subject alternative names, issued by the CA all
// processes trust (deploy/local-ca.sh makes one for a local setup):
//   control-plane.shadowplane   the control plane (every replica)
//   <location>.agent.shadowplane the agent of that location
//   anything else               a caller, given a role by the server's tokens file
// A channel names the identity its peer must have; the TLS handshake fails otherwise, so a
// location's endpoint pointed at another machine cannot receive the control plane's calls.
//
// The files are watched: a renewed certificate, key or CA is used for new connections within the
// reload interval, without a restart (gRPC's FileWatcherCertificateProvider, which keeps the last
// good files while a change is half-written).
#ifndef SHADOWPLANE_COMMON_TRANSPORT_SECURITY_H_
#define SHADOWPLANE_COMMON_TRANSPORT_SECURITY_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc::experimental {
class CertificateProviderInterface;
}

namespace shadowplane {

inline constexpr absl::string_view kControlPlaneIdentity = "control-plane.shadowplane";

// "<location>.agent.shadowplane".
std::string AgentIdentity(absl::string_view location);
// The location of an agent identity; nullopt for any other name.
std::optional<std::string> AgentLocationOf(absl::string_view identity);

struct TlsFiles {
  std::string cert;  // PEM certificate chain: this process's identity, as server and as client
  std::string key;   // its PEM private key; refused when others may read it
  std::string ca;    // PEM bundle of the CA(s) a peer's certificate must chain to
  absl::Duration reload_interval = absl::Seconds(60);

  bool empty() const { return cert.empty() && key.empty() && ca.empty(); }
};

// The flags' rule, the same for every process: TLS (all three files) unless `insecure`, which
// takes no files and only a loopback `listen`. INVALID_ARGUMENT naming the flags otherwise.
absl::Status CheckTransportFlags(const TlsFiles& files, bool insecure, const std::string& listen);

enum class ClientCertificates {
  kOptional,  // a client may present one (then it must verify) or authenticate otherwise
  kRequired,  // no handshake without a certificate the CA signed
};

class TransportSecurity {
 public:
  static std::shared_ptr<const TransportSecurity> Insecure();
  // Checks the files now, so that a wrong path, a key that does not match the certificate or an
  // expired certificate fails at start-up with the file named, not at the first handshake:
  // INVALID_ARGUMENT for a missing flag, FAILED_PRECONDITION for a file that cannot be used.
  static absl::StatusOr<std::shared_ptr<const TransportSecurity>> FromFiles(const TlsFiles& files);

  // For a client outside the fleet (shadowctl): TLS checked against `files.ca` (empty: the
  // system's root certificates), with a client certificate only when cert and key are given.
  static absl::StatusOr<std::shared_ptr<const TransportSecurity>> ForClient(const TlsFiles& files);

  bool tls() const { return tls_; }
  // The identities (DNS SANs) of this process's certificate at start-up; empty when insecure.
  const std::vector<std::string>& identities() const { return identities_; }

  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(ClientCertificates clients) const;
  // A channel to `endpoint` (host:port) whose server must present a certificate naming
  // `peer_identity`; this process's own certificate is its client certificate. Plaintext when
  // insecure (`peer_identity` is then unchecked).
  std::shared_ptr<grpc::Channel> Channel(const std::string& endpoint,
                                         const std::string& peer_identity,
                                         grpc::ChannelArguments args = {}) const;

 private:
  TransportSecurity() = default;
  // The certificate's DNS names, once it is known to match the key and chain to the CA.
  static absl::StatusOr<std::vector<std::string>> CheckIdentity(const TlsFiles& files);

  bool tls_ = false;
  bool has_identity_ = false;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::vector<std::string> identities_;
};

// When the first certificate of the PEM file at `path` stops being valid. FAILED_PRECONDITION when
// it holds none that can be read.
absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& path);

// The verified DNS names of a call's peer certificate; empty for a plaintext peer or one that
// presented none.
std::vector<std::string> PeerIdentities(const grpc::AuthContext& context);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_TRANSPORT_SECURITY_H_
