// Bearer tokens for callers of the server (`authorization: Bearer <token>`), from a tokens file
// that holds only their SHA-256 hashes, each with the caller it names:
//
//   tokens:
//     - name: alice              # who, in logs and the audit trail
//       role: admin              # viewer, operator, admin or agent
//       team: platform           # the team whose reservations an operator acts on (optional)
//       sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//     - name: agent:fra-1
//       role: agent
//       location: fra-1          # required for an agent: the location it speaks for
//       sha256: ...
//
// An entry may name a client certificate instead of a token hash: `certificate: alice` gives the
// caller whose TLS certificate (signed by the server's --tls_ca) carries the DNS name `alice` in
// its subject alternative names that entry's name, role and team. Agents need no entry: a
// certificate naming <location>.agent.shadowplane is that location's agent
// (common/transport_security.h); those names, and the control plane's, cannot be given here.
//
// A `teams:` list (optional) sets each team's quota: what its live reservations may hold together,
// refused with RESOURCE_EXHAUSTED beyond (store/team_quota.h); a limit left out, or a team not
// listed, has none:
//
//   teams:
//     - name: platform
//       max_millicores: 16000
//       max_memory_mib: 65536
//
// (`printf %s "$TOKEN" | sha256sum` gives the hash.) The file must not be readable or writable by
// others (it is refused otherwise). It is read again when it changes (looked at no more than once
// a second), so tokens are added and revoked without a restart; a change that does not parse keeps
// the tokens in force and says why in the log.
#ifndef SHADOWPLANE_API_ACCESS_TOKEN_STORE_H_
#define SHADOWPLANE_API_ACCESS_TOKEN_STORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/access/caller.h"
#include "common/capacity.h"
#include "common/secret_file.h"

namespace shadowplane::api::access {

inline constexpr size_t kMaxTokensFileBytes = 1 << 20;
inline constexpr size_t kMaxTokens = 10000;

struct TokenFile {
  std::map<std::string, Caller> by_hash;         // lowercase hex SHA-256 -> caller
  std::map<std::string, Caller> by_certificate;  // certificate DNS name -> caller
  std::map<std::string, TeamQuota> quotas;       // team -> its quota
};

// INVALID_ARGUMENT naming the entry and field: not YAML, no `tokens` list, a name empty or over
// 128 bytes or with control characters, an unknown role, neither or both of sha256 and
// certificate, a hash that is not 64 hex digits, a certificate name that is not a DNS name or is
// reserved, an agent by certificate, a team or location that is not [a-z0-9-] (1-63), an agent
// without a location, the same hash or certificate twice, more than kMaxTokens entries; in
// `teams:`, a name that is not [a-z0-9-] (1-63) or is given twice, a limit that is not a positive
// whole number.
absl::StatusOr<TokenFile> ParseTokens(const std::string& yaml);

// Lowercase hex SHA-256 of `token`.
std::string TokenHash(absl::string_view token);

class TokenStore {
 public:
  // NOT_FOUND when `path` does not exist; FAILED_PRECONDITION when others may read or write it
  // or it is over kMaxTokensFileBytes; ParseTokens' errors, prefixed with the path.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(const std::string& path);

  // The caller `token` names; nullopt for an unknown token. May re-read the file first.
  std::optional<Caller> Authenticate(absl::string_view token);
  // The caller the first of a verified certificate's DNS names maps to; nullopt for none.
  std::optional<Caller> AuthenticateCertificate(const std::vector<std::string>& names);
  // The team's quota; nullopt when the file sets none. May re-read the file first.
  std::optional<TeamQuota> QuotaOf(const std::string& team);
  size_t size();

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}
  // Re-reads the file when its inode, size or modification time changed.
  void MaybeReload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  TokenFile file_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_at_ ABSL_GUARDED_BY(mu_);
  FileStamp stamp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_TOKEN_STORE_H_
