#include "common/transport_security.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/loopback.h"
#include "common/secret_file.h"
#include "common/status_macros.h"

namespace shadowplane {
namespace {

constexpr absl::string_view kAgentSuffix = ".agent.shadowplane";
constexpr size_t kMaxPemBytes = 1 << 20;

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using Cert = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using Key = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using Store = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using StoreContext =
    std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate of a PEM file, in order.
absl::StatusOr<std::vector<Cert>> ReadCertificates(const std::string& path,
                                                   const std::string& what) {
  // Bounded while read: a CA path pointed at a device or a huge file is refused, not slurped.
  absl::StatusOr<std::string> read = ReadFileUpTo(path, kMaxPemBytes);
  if (!read.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": ", read.status().message()));
  }
  const std::string& pem = *read;
  std::vector<Cert> certs;
  Bio bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  if (certs.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  return certs;
}

std::vector<std::string> DnsNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  return names;
}

// The certificate must chain to one of `cas`, be valid now, and carry at least one DNS name.
absl::Status VerifyAgainst(X509* leaf, const std::vector<Cert>& chain, const std::vector<Cert>& cas,
                           const TlsFiles& files) {
  Store store(X509_STORE_new());
  for (const Cert& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  StoreContext context(X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), leaf, untrusted);
  const bool ok = X509_verify_cert(context.get()) == 1;
  const int error = X509_STORE_CTX_get_error(context.get());
  sk_X509_free(untrusted);
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat("certificate ", files.cert,
                                                      " does not verify against the CA ", files.ca,
                                                      ": ", X509_verify_cert_error_string(error)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string AgentIdentity(absl::string_view location) {
  return absl::StrCat(location, kAgentSuffix);
}

std::optional<std::string> AgentLocationOf(absl::string_view identity) {
  if (!absl::ConsumeSuffix(&identity, kAgentSuffix) || identity.empty() ||
      absl::StrContains(identity, '.')) {
    return std::nullopt;
  }
  return std::string(identity);
}

absl::Status CheckTransportFlags(const TlsFiles& files, bool insecure, const std::string& listen) {
  if (insecure) {
    if (!files.empty()) {
      return absl::InvalidArgumentError(
          "--insecure serves plaintext: drop it, or --tls_cert, --tls_key and --tls_ca");
    }
    if (!IsLoopbackListen(listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure is for loopback only: --listen=", listen,
          " is reached from other machines, which must use TLS (--tls_cert, --tls_key, "
          "--tls_ca)"));
    }
    return absl::OkStatus();
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(
        "calls are served with TLS: give --tls_cert, --tls_key and --tls_ca (deploy/local-ca.sh "
        "makes a local CA and certificates), or say --insecure to serve plaintext on loopback");
  }
  for (const auto& [value, flag] :
       {std::pair{&files.cert, "tls_cert"}, std::pair{&files.key, "tls_key"},
        std::pair{&files.ca, "tls_ca"}}) {
    if (value->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, " is missing: TLS needs --tls_cert, --tls_key and --tls_ca"));
    }
  }
  if (files.reload_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--tls_reload_interval must be at least 1s");
  }
  return absl::OkStatus();
}

std::shared_ptr<const TransportSecurity> TransportSecurity::Insecure() {
  return std::shared_ptr<const TransportSecurity>(new TransportSecurity());
}

absl::StatusOr<std::shared_ptr<const TransportSecurity>> TransportSecurity::FromFiles(
    const TlsFiles& files) {
  RETURN_IF_ERROR(CheckTransportFlags(files, /*insecure=*/false, ""));
  auto security = std::shared_ptr<TransportSecurity>(new TransportSecurity());
  security->tls_ = true;
  security->has_identity_ = true;
  ASSIGN_OR_RETURN(security->identities_, CheckIdentity(files));
  security->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.ca,
      static_cast<unsigned int>(absl::ToInt64Seconds(files.reload_interval)));
  return std::shared_ptr<const TransportSecurity>(std::move(security));
}

absl::StatusOr<std::shared_ptr<const TransportSecurity>> TransportSecurity::ForClient(
    const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both --cert and --key");
  }
  auto security = std::shared_ptr<TransportSecurity>(new TransportSecurity());
  security->tls_ = true;
  const unsigned int interval =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(files.reload_interval)));
  if (!files.cert.empty()) {
    if (files.ca.empty()) {
      return absl::InvalidArgumentError("a client certificate needs --ca, the CA that signed it");
    }
    security->has_identity_ = true;
    ASSIGN_OR_RETURN(security->identities_, CheckIdentity(files));
    security->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        files.key, files.cert, files.ca, interval);
  } else if (!files.ca.empty()) {
    RETURN_IF_ERROR(ReadCertificates(files.ca, "CA").status());
    security->provider_ =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.ca, interval);
  }
  return std::shared_ptr<const TransportSecurity>(std::move(security));
}

absl::StatusOr<std::vector<std::string>> TransportSecurity::CheckIdentity(const TlsFiles& files) {
  ASSIGN_OR_RETURN(std::vector<Cert> chain, ReadCertificates(files.cert, "certificate"));
  ASSIGN_OR_RETURN(std::vector<Cert> cas, ReadCertificates(files.ca, "CA"));
  absl::StatusOr<std::string> key_pem = ReadPrivateFile(files.key, "TLS key", kMaxPemBytes);
  if (!key_pem.ok()) {
    return absl::FailedPreconditionError(std::string(key_pem.status().message()));
  }
  Bio bio = MemoryBio(*key_pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("TLS key ", files.key, " holds no unencrypted PEM private key"));
  }
  X509* leaf = chain.front().get();
  if (X509_check_private_key(leaf, key.get()) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("TLS key ", files.key, " does not belong to the certificate ", files.cert));
  }
  RETURN_IF_ERROR(VerifyAgainst(leaf, chain, cas, files));
  std::vector<std::string> identities = DnsNames(leaf);
  if (identities.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", files.cert,
        " names no DNS subject alternative name: identities are DNS names (deploy/local-ca.sh)"));
  }
  return identities;
}

std::shared_ptr<grpc::ServerCredentials> TransportSecurity::ServerCredentials(
    ClientCertificates clients) const {
  if (!tls()) return grpc::InsecureServerCredentials();
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(clients == ClientCertificates::kRequired
                                    ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                    : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::Channel> TransportSecurity::Channel(const std::string& endpoint,
                                                          const std::string& peer_identity,
                                                          grpc::ChannelArguments args) const {
  if (!tls()) {
    return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (provider_ != nullptr) {  // else: the system's root certificates, no client certificate
    options.set_certificate_provider(provider_);
    options.watch_root_certs();
    if (has_identity_) options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(true);
  // The peer's name is checked against the target name below, not per call's authority.
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  args.SetSslTargetNameOverride(peer_identity);
  return grpc::CreateCustomChannel(endpoint, grpc::experimental::TlsCredentials(options), args);
}

absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<Cert> certs, ReadCertificates(path, "certificate"));
  struct tm tm = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certs.front().get()), &tm) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", path, " has an unreadable expiry time"));
  }
  return absl::FromUnixSeconds(timegm(&tm));
}

std::vector<std::string> PeerIdentities(const grpc::AuthContext& context) {
  std::vector<std::string> out;
  if (!context.IsPeerAuthenticated()) return out;
  for (const grpc::string_ref& name : context.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    out.emplace_back(name.data(), name.size());
  }
  return out;
}

}  // namespace shadowplane
