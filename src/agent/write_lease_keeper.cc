#include "agent/write_lease_keeper.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/grpc_channel_cache.h"
#include "common/grpc_client_status.h"
#include "common/log.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "shadowplane/agent/v1/write_lease.grpc.pb.h"

namespace shadowplane::agent {

namespace pb = shadowplane::agent::v1;

namespace {

constexpr absl::Duration kFirstInterval = absl::Seconds(1);
constexpr absl::Duration kMinInterval = absl::Milliseconds(50);

bool IsHostPort(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  int port = 0;
  return colon != std::string::npos && colon > 0 &&
         absl::SimpleAtoi(endpoint.substr(colon + 1), &port) && port >= 1 && port <= 65535;
}

}  // namespace

struct WriteLeaseKeeper::Channels {
  explicit Channels(std::shared_ptr<const TransportSecurity> security)
      : cache(std::move(security)) {}
  GrpcChannelCache cache;
};

absl::StatusOr<std::vector<std::string>> ParseControlPlane(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const std::string endpoint(absl::StripAsciiWhitespace(part));
    if (!IsHostPort(endpoint)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--control_plane: \"", endpoint, "\" is not host:port"));
    }
    out.push_back(endpoint);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("--control_plane: name at least one host:port");
  }
  return out;
}

WriteLeaseKeeper::WriteLeaseKeeper(WriteLeaseKeeperOptions options, InstanceManager* manager,
                                   prometheus::Registry* registry)
    : options_(std::move(options)),
      manager_(manager),
      channels_(std::make_unique<Channels>(options_.security)),
      interval_(std::min(kFirstInterval, options_.max_interval)) {
  if (registry != nullptr) {
    renewals_ = &prometheus::BuildCounter()
                     .Name("shadowplane_agent_write_lease_renewals_total")
                     .Help(
                         "Write lease renewals of read-write instances, by the control plane's "
                         "verdict (unreachable: no replica answered)")
                     .Register(*registry);
  }
  thread_ = std::thread([this] { Run(); });
}

WriteLeaseKeeper::~WriteLeaseKeeper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void WriteLeaseKeeper::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.Unlock();
    const absl::Status round = RenewOnce();
    mu_.Lock();
    if (!round.ok()) {
      LOG_EVENT(kWarning, "write leases not renewed").Field("error", round);
    }
    const absl::Time next = absl::Now() + interval_;
    auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithDeadline(absl::Condition(&stopping), next);
  }
}

absl::Status WriteLeaseKeeper::RenewOnce() {
  pb::RenewWriteLeasesRequest request;
  request.set_location(options_.location);
  struct Asked {
    int64_t epoch;
    int64_t generation;
  };
  absl::flat_hash_map<std::string, Asked> asked;  // by instance id
  for (const InstanceView& v : manager_->List()) {
    // Only a running instance: one that cannot be started (crash loop, lost disk) must look
    // silent to the control plane, which then fails it over. One restarted later takes writes
    // again only after the next renewal confirmed its epoch.
    if (!v.config.active || v.config.read_only || v.state != InstanceState::kRunning) continue;
    pb::HeldLease* held = request.add_leases();
    held->set_instance_id(v.config.instance_id);
    held->set_epoch(v.config.epoch);
    asked[v.config.instance_id] = Asked{v.config.epoch, v.config.generation};
  }
  if (request.leases_size() == 0) return absl::OkStatus();
  size_t first;
  {
    absl::MutexLock lock(&mu_);
    first = preferred_;
  }
  absl::Status last = absl::UnavailableError("no control plane configured");
  for (size_t attempt = 0; attempt < options_.control_plane.size(); ++attempt) {
    const size_t index = (first + attempt) % options_.control_plane.size();
    const std::string& endpoint = options_.control_plane[index];
    // Taken before the call: the lease is counted from before the control plane recorded it.
    const absl::Time sent = absl::Now();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(sent + options_.call_timeout));
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    pb::RenewWriteLeasesResponse response;
    const grpc::Status status =
        pb::WriteLeaseService::NewStub(
            channels_->cache.Get(endpoint, std::string(kControlPlaneIdentity)))
            ->RenewWriteLeases(&context, request, &response);
    if (!status.ok()) {
      last = FromGrpcStatus(status, absl::StrCat("renewing write leases at ", endpoint));
      continue;
    }
    absl::Duration shortest = options_.max_interval * 3;
    for (const pb::LeaseAnswer& answer : response.answers()) {
      const auto it = asked.find(answer.instance_id());
      if (it == asked.end()) continue;  // not asked about: a confused peer
      const char* verdict = "not_writer";
      if (answer.verdict() == pb::LeaseAnswer::GRANTED) {
        verdict = "granted";
        const absl::Duration lease = absl::Milliseconds(answer.lease_ms());
        shortest = std::min(shortest, lease);
        if (absl::Status s =
                manager_->ExtendLease(answer.instance_id(), it->second.epoch, sent + lease);
            !s.ok()) {
          // Changed meanwhile (made read-only, or granted again): the next round sees it.
          LOG_EVENT(kInfo, "write lease not extended")
              .Field("instance_id", answer.instance_id())
              .Field("error", s);
        }
      } else {
        if (answer.verdict() == pb::LeaseAnswer::SUPERSEDED) verdict = "superseded";
        auto fenced =
            manager_->Fence(answer.instance_id(), it->second.generation, answer.current_epoch());
        if (!fenced.ok()) {
          LOG_EVENT(kError, "instance could not be fenced")
              .Field("instance_id", answer.instance_id())
              .Field("verdict", verdict)
              .Field("error", fenced.status());
        }
      }
      if (renewals_ != nullptr) renewals_->Add({{"verdict", verdict}}).Increment();
    }
    absl::MutexLock lock(&mu_);
    preferred_ = index;
    interval_ = std::clamp(shortest / 3, kMinInterval, options_.max_interval);
    return absl::OkStatus();
  }
  if (renewals_ != nullptr) {
    renewals_->Add({{"verdict", "unreachable"}}).Increment(request.leases_size());
  }
  return last;
}

}  // namespace shadowplane::agent
