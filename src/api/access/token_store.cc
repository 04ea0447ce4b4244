#include "api/access/token_store.h"

#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "common/transport_security.h"

namespace shadowplane::api::access {
namespace {

// RFC 1123 host name: dot-separated labels of letters, digits and '-', at most 253 bytes.
bool IsDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  return true;
}

bool IsPrintable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// A quota limit: a positive whole number; `absent` when the field is not given.
absl::Status ParseLimit(const YAML::Node& team, const char* name, const std::string& at,
                        std::optional<int64_t>* out) {
  if (!team[name]) return absl::OkStatus();
  int64_t value = 0;
  if (!team[name].IsScalar() || !absl::SimpleAtoi(team[name].as<std::string>(), &value) ||
      value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".", name, " must be a positive whole number"));
  }
  *out = value;
  return absl::OkStatus();
}

// The optional `teams:` list: each team's quota.
absl::StatusOr<TokenFile> ParseTeams(const YAML::Node& root, TokenFile out) {
  if (!root["teams"]) return out;
  const YAML::Node list = root["teams"];
  if (!list.IsSequence()) return absl::InvalidArgumentError("`teams:` must be a list");
  if (list.size() > kMaxTokens) {
    return absl::InvalidArgumentError(absl::StrCat("over ", kMaxTokens, " teams"));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node e = list[i];
    const std::string at = absl::StrCat("teams[", i, "]");
    if (!e.IsMap()) return absl::InvalidArgumentError(absl::StrCat(at, " is not a mapping"));
    const std::string name =
        e["name"] && e["name"].IsScalar() ? e["name"].as<std::string>() : std::string();
    if (!IsShortName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".name must be 1-63 of [a-z0-9-]"));
    }
    TeamQuota quota;
    if (absl::Status s = ParseLimit(e, "max_millicores", at, &quota.millicores); !s.ok()) return s;
    if (absl::Status s = ParseLimit(e, "max_memory_mib", at, &quota.memory_mib); !s.ok()) return s;
    if (!out.quotas.emplace(name, quota).second) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".name '", name, "' is given twice"));
    }
  }
  return out;
}

}  // namespace

std::string TokenHash(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<TokenFile> ParseTokens(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not YAML: ", e.what()));
  }
  if (!root.IsMap() || !root["tokens"] || !root["tokens"].IsSequence()) {
    return absl::InvalidArgumentError("expected a `tokens:` list");
  }
  const YAML::Node list = root["tokens"];
  if (list.size() > kMaxTokens) {
    return absl::InvalidArgumentError(absl::StrCat("over ", kMaxTokens, " tokens"));
  }
  TokenFile out;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node e = list[i];
    const std::string at = absl::StrCat("tokens[", i, "]");
    if (!e.IsMap()) return absl::InvalidArgumentError(absl::StrCat(at, " is not a mapping"));
    auto field = [&](const char* name) -> std::string {
      return e[name] && e[name].IsScalar() ? e[name].as<std::string>() : std::string();
    };
    Caller c;
    c.name = field("name");
    if (c.name.empty() || c.name.size() > 128 || !IsPrintable(c.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".name must be 1-128 printable characters"));
    }
    const std::optional<Role> role = ParseRole(field("role"));
    if (!role.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".role must be viewer, operator, admin or agent (", c.name, ")"));
    }
    c.role = *role;
    c.team = field("team");
    if (!c.team.empty() && !IsShortName(c.team)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".team must be 1-63 of [a-z0-9-] (", c.name, ")"));
    }
    c.location = field("location");
    if (c.role == Role::kAgent ? !IsShortName(c.location) : !c.location.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".location (1-63 of [a-z0-9-]) is required for an agent and only for one (", c.name,
          ")"));
    }
    const std::string certificate = field("certificate");
    if (!certificate.empty()) {
      if (e["sha256"]) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, " has both sha256 and certificate: give one (", c.name, ")"));
      }
      if (!IsDnsName(certificate)) {
        return absl::InvalidArgumentError(absl::StrCat(
            at, ".certificate must be a DNS name of a client certificate (", c.name, ")"));
      }
      if (certificate == kControlPlaneIdentity || AgentLocationOf(certificate).has_value() ||
          c.role == Role::kAgent) {
        return absl::InvalidArgumentError(absl::StrCat(
            at,
            ".certificate: agents and the control plane are known by their certificates "
            "without an entry (",
            c.name, ")"));
      }
      if (!out.by_certificate.emplace(certificate, c).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".certificate is another entry's too (", c.name, ")"));
      }
      continue;
    }
    std::string hash = absl::AsciiStrToLower(field("sha256"));
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".sha256 must be 64 hex digits, or give certificate instead (", c.name, ")"));
    }
    if (!out.by_hash.emplace(std::move(hash), c).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".sha256 is another entry's too (", c.name, ")"));
    }
  }
  return ParseTeams(root, std::move(out));
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& path) {
  std::unique_ptr<TokenStore> store(new TokenStore(path));
  FileStamp stamp;
  absl::StatusOr<std::string> text =
      ReadPrivateFile(path, "tokens file", kMaxTokensFileBytes, &stamp);
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenFile> tokens = ParseTokens(*text);
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", tokens.status().message()));
  }
  absl::MutexLock lock(&store->mu_);
  store->file_ = *std::move(tokens);
  store->stamp_ = stamp;
  store->checked_at_ = absl::Now();
  return store;
}

void TokenStore::MaybeReload() {
  const absl::Time now = absl::Now();
  if (now - checked_at_ < absl::Seconds(1)) return;
  checked_at_ = now;
  if (absl::StatusOr<FileStamp> now_at = StampOf(path_); now_at.ok() && *now_at == stamp_) return;
  FileStamp stamp;
  absl::StatusOr<std::string> text =
      ReadPrivateFile(path_, "tokens file", kMaxTokensFileBytes, &stamp);
  absl::StatusOr<TokenFile> tokens =
      text.ok() ? ParseTokens(*text) : absl::StatusOr<TokenFile>(text.status());
  // Not looked at again until it changes once more.
  if (text.ok()) {
    stamp_ = stamp;
  } else if (absl::StatusOr<FileStamp> now_at = StampOf(path_); now_at.ok()) {
    stamp_ = *now_at;
  }
  if (!tokens.ok()) {
    LOG_EVENT(kError, "tokens file not reloaded; the tokens in force stay")
        .Field("path", path_)
        .Field("error", tokens.status());
    return;
  }
  file_ = *std::move(tokens);
  LOG_EVENT(kInfo, "tokens file reloaded")
      .Field("path", path_)
      .Field("tokens", static_cast<int64_t>(file_.by_hash.size()))
      .Field("certificates", static_cast<int64_t>(file_.by_certificate.size()));
}

std::optional<Caller> TokenStore::Authenticate(absl::string_view token) {
  if (token.empty() || token.size() > 4096) return std::nullopt;
  const std::string hash = TokenHash(token);
  absl::MutexLock lock(&mu_);
  MaybeReload();
  const auto it = file_.by_hash.find(hash);
  if (it == file_.by_hash.end()) return std::nullopt;
  return it->second;
}

std::optional<Caller> TokenStore::AuthenticateCertificate(const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  MaybeReload();
  for (const std::string& name : names) {
    if (const auto it = file_.by_certificate.find(name); it != file_.by_certificate.end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

std::optional<TeamQuota> TokenStore::QuotaOf(const std::string& team) {
  absl::MutexLock lock(&mu_);
  MaybeReload();
  const auto it = file_.quotas.find(team);
  if (it == file_.quotas.end()) return std::nullopt;
  return it->second;
}

size_t TokenStore::size() {
  absl::MutexLock lock(&mu_);
  MaybeReload();
  return file_.by_hash.size() + file_.by_certificate.size();
}

}  // namespace shadowplane::api::access
