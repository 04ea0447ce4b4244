#include "providers/traffic/haproxy/haproxy_traffic_provider.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace shadowplane::providers::haproxy {

namespace {

// srv_admin_state flags that take a server out of service (HAProxy's SRV_ADMF_MAINT: forced,
// inherited and resolution maintenance). 0x04 only records that the configuration said
// `disabled`; it stays after `state ready`.
constexpr int kMaintenance = 0x01 | 0x02 | 0x20;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' && c != ':') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HaproxyTrafficProvider>> HaproxyTrafficProvider::Create(
    HaproxyOptions options) {
  if (options.socket.empty()) {
    return absl::InvalidArgumentError(
        "haproxy_socket is required: HAProxy's stats socket (level admin)");
  }
  if (!ValidName(options.slot)) {
    return absl::InvalidArgumentError(
        absl::StrCat("haproxy_slot \"", options.slot, "\" is not an HAProxy server name"));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("haproxy timeout must be positive");
  }
  return std::unique_ptr<HaproxyTrafficProvider>(new HaproxyTrafficProvider(std::move(options)));
}

absl::Status HaproxyTrafficProvider::Command(const std::string& command,
                                             std::initializer_list<const char*> ok) {
  ASSIGN_OR_RETURN(const std::string answer, api_.Run(command));
  const absl::string_view text = absl::StripAsciiWhitespace(answer);
  if (text.empty()) return absl::OkStatus();
  for (const char* expected : ok) {
    if (absl::StrContains(text, expected)) return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat("HAProxy refused \"", command, "\": ", text));
}

absl::StatusOr<ServerState> HaproxyTrafficProvider::Slot(const std::string& backend) {
  if (!ValidName(backend)) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_name \"", backend, "\" is not an HAProxy backend name"));
  }
  ASSIGN_OR_RETURN(const std::string answer, api_.Run("show servers state " + backend));
  absl::StatusOr<std::vector<ServerState>> rows = ParseServersState(answer);
  if (!rows.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("service_name: HAProxy has no backend \"",
                                                   backend, "\" (", rows.status().message(), ")"));
  }
  for (ServerState& row : *rows) {
    if (row["srv_name"] == options_.slot) return row;
  }
  return absl::InvalidArgumentError(absl::StrCat("service_name: HAProxy backend \"", backend,
                                                 "\" has no server \"", options_.slot,
                                                 "\" (the slot its primary is served from)"));
}

absl::StatusOr<Endpoint> HaproxyTrafficProvider::Current(const std::string& service) {
  ASSIGN_OR_RETURN(ServerState slot, Slot(service));
  if ((std::atoi(slot["srv_admin_state"].c_str()) & kMaintenance) != 0) {
    return absl::NotFoundError(absl::StrCat("HAProxy backend ", service, ": slot ", options_.slot,
                                            " is in maintenance (points nowhere)"));
  }
  return ParseAddress(slot["srv_addr"], std::atoi(slot["srv_port"].c_str()), "srv_addr");
}

absl::Status HaproxyTrafficProvider::Point(const std::string& backend, const Endpoint& target) {
  const std::string server = absl::StrCat(backend, "/", options_.slot);
  RETURN_IF_ERROR(
      Command(absl::StrCat("set server ", server, " addr ", target.address, " port ", target.port),
              {"changed", "no need to change"}));
  RETURN_IF_ERROR(Command(absl::StrCat("set server ", server, " state ready"), {}));
  return SaveState();
}

absl::Status HaproxyTrafficProvider::SaveState() {
  if (options_.state_file.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string state, api_.Run("show servers state"));
  return WriteFileAtomically(options_.state_file, state, 0644);
}

absl::Status HaproxyTrafficProvider::Register(const std::string& service, const Endpoint& target) {
  absl::StatusOr<Endpoint> current = Current(service);
  if (current.ok()) {
    if (current->Matches(target)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("HAProxy backend ", service,
                                                      " already points at ", current->ToString(),
                                                      ", not ", target.ToString()));
  }
  if (!absl::IsNotFound(current.status())) return current.status();
  return Point(service, target);
}

absl::StatusOr<absl::Duration> HaproxyTrafficProvider::Prepare(const std::string& service) {
  // Nothing caches a load balancer's choice: only check that the backend is there.
  RETURN_IF_ERROR(Slot(service).status());
  return absl::ZeroDuration();
}

absl::Status HaproxyTrafficProvider::Switch(const std::string& service, const Endpoint& from,
                                            const Endpoint& to, bool /*urgent*/) {
  absl::StatusOr<Endpoint> current = Current(service);
  if (absl::IsNotFound(current.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("HAProxy backend ", service, " points nowhere (slot ", options_.slot,
                     " in maintenance); expected ", from.ToString()));
  }
  if (!current.ok()) return current.status();
  if (current->Matches(to)) return absl::OkStatus();  // done before: idempotent
  if (!current->Matches(from)) {
    return absl::FailedPreconditionError(absl::StrCat("HAProxy backend ", service, " points at ",
                                                      current->ToString(), ", not ",
                                                      from.ToString(), ": someone else moved it"));
  }
  RETURN_IF_ERROR(Point(service, to));
  return VerifyTarget(*this, service, to);
}

absl::Status HaproxyTrafficProvider::Restore(const std::string& service) {
  return Slot(service).status();
}

absl::StatusOr<absl::Duration> HaproxyTrafficProvider::DrainPeriod(const std::string& service) {
  RETURN_IF_ERROR(Slot(service).status());
  return options_.drain;
}

absl::Status HaproxyTrafficProvider::Unregister(const std::string& service,
                                                const Endpoint& target) {
  absl::StatusOr<Endpoint> current = Current(service);
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  if (!current.ok()) return current.status();
  if (!current->Matches(target)) {
    return absl::FailedPreconditionError(absl::StrCat("HAProxy backend ", service, " points at ",
                                                      current->ToString(), ", not ",
                                                      target.ToString()));
  }
  RETURN_IF_ERROR(
      Command(absl::StrCat("set server ", service, "/", options_.slot, " state maint"), {}));
  return SaveState();
}

absl::Status RegisterHaproxyTrafficProvider(TrafficProviderRegistry& registry) {
  return registry.Register(
      "haproxy",
      [](const TrafficProviderContext& context)
          -> absl::StatusOr<std::unique_ptr<TrafficProvider>> {
        HaproxyOptions o;
        o.socket = Setting(context, "haproxy_socket");
        if (const std::string slot = Setting(context, "haproxy_slot"); !slot.empty()) o.slot = slot;
        o.state_file = Setting(context, "haproxy_state_file");
        ASSIGN_OR_RETURN(o.drain, DurationSetting(context, "haproxy_drain", o.drain));
        ASSIGN_OR_RETURN(o.timeout, DurationSetting(context, "haproxy_timeout", o.timeout));
        ASSIGN_OR_RETURN(auto provider, HaproxyTrafficProvider::Create(std::move(o)));
        return std::unique_ptr<TrafficProvider>(std::move(provider));
      });
}

}  // namespace shadowplane::providers::haproxy
