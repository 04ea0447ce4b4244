#include "cli/dns_target.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "providers/traffic/rfc2136/dns_lookup.h"

namespace shadowplane::cli {

namespace {

bool IsIpv4Loopback(const std::string& address) {
  in_addr a;
  return inet_pton(AF_INET, address.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool IsLoopback(const providers::Endpoint& e) {
  return e.ipv6 ? e.address == "::1" : IsIpv4Loopback(e.address);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsTarget>> DnsTarget::Create(const std::string& server,
                                                             const std::string& name,
                                                             absl::Duration timeout) {
  absl::StatusOr<providers::Endpoint> at = providers::ParseEndpoint(server, "--dns_server");
  if (!at.ok()) return at.status();
  if (!IsLoopback(*at)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--dns_server ", server, " is refused: the load generator asks only a loopback server"));
  }
  std::string absolute = absl::AsciiStrToLower(name);
  if (absolute.empty())
    return absl::InvalidArgumentError("--service_name is required with --dns_server");
  if (absolute.back() != '.') absolute.push_back('.');
  if (absolute.size() > 254 ||
      !std::all_of(absolute.begin(), absolute.end(),
                   [](char c) {
                     return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                            c == '.' || c == '_';
                   }) ||
      absolute.find("..") != std::string::npos || absolute.front() == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("--service_name \"", name, "\" is not a DNS name"));
  }
  return std::unique_ptr<DnsTarget>(new DnsTarget(*std::move(at), std::move(absolute), timeout));
}

absl::StatusOr<std::string> DnsTarget::Resolve() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (!cached_.empty() && now < expires_) return cached_;
  ++lookups_;
  absl::StatusOr<providers::rfc2136::DnsRecord> record =
      providers::rfc2136::LookupAddress(server_, name_, timeout_);
  if (!record.ok()) return record.status();
  const std::string address = record->target.address;
  if (record->target.ipv6 || !IsIpv4Loopback(address)) {
    return absl::FailedPreconditionError(absl::StrCat(
        name_, " holds ", address, ": the load generator sends only to IPv4 loopback"));
  }
  seen_.insert(address);
  cached_ = address;
  expires_ = now + record->ttl;
  return cached_;
}

int64_t DnsTarget::lookups() const {
  absl::MutexLock lock(&mu_);
  return lookups_;
}

std::set<std::string> DnsTarget::addresses() const {
  absl::MutexLock lock(&mu_);
  return seen_;
}

}  // namespace shadowplane::cli
