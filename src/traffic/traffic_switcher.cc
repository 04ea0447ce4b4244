#include "traffic/traffic_switcher.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::traffic {

TrafficSwitcher::TrafficSwitcher(providers::TrafficProvider* provider,
                                 store::TrafficSwitchRepository* audit, const Clock* clock,
                                 prometheus::Registry* registry)
    : provider_(provider), audit_(audit), clock_(clock) {
  if (registry == nullptr) return;
  switches_ = &prometheus::BuildCounter()
                   .Name("shadowplane_traffic_switches_total")
                   .Help("Traffic switches, by provider, urgency and result")
                   .Register(*registry);
  seconds_ = &prometheus::BuildHistogram()
                  .Name("shadowplane_traffic_switch_seconds")
                  .Help("Time from a switch's request to the server's verified answer")
                  .Register(*registry)
                  .Add({{"provider", provider->name()}},
                       prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                                               1, 5, 30});
}

absl::StatusOr<SwitchOutcome> TrafficSwitcher::Switch(const SwitchRequest& request) {
  store::TrafficSwitchRecord record;
  record.resource_id = request.resource_id;
  record.provider = provider_->name();
  record.service_name = request.service;
  record.from_target = request.from.ToString();
  record.to_target = request.to.ToString();
  record.urgent = request.urgent;
  record.reason = request.reason;
  record.started_at = clock_->Now();
  SwitchOutcome outcome;
  ASSIGN_OR_RETURN(outcome.audit_id, audit_->Start(record));
  const absl::Time start = absl::Now();
  absl::Status status =
      provider_->Switch(request.service, request.from, request.to, request.urgent);
  outcome.duration = absl::Now() - start;
  if (status.ok()) {
    absl::StatusOr<absl::Duration> drain = provider_->DrainPeriod(request.service);
    outcome.drain = drain.ok() ? *drain : absl::ZeroDuration();
  }
  const absl::Status recorded =
      audit_->Finish(outcome.audit_id, clock_->Now(), status.ok(), std::string(status.message()));
  if (switches_ != nullptr) {
    switches_
        ->Add({{"provider", provider_->name()},
               {"urgent", request.urgent ? "true" : "false"},
               {"result", status.ok() ? "ok" : "failed"}})
        .Increment();
    if (status.ok()) seconds_->Observe(absl::ToDoubleSeconds(outcome.duration));
  }
  LogLine log(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "traffic switch");
  log.Field("resource_id", request.resource_id)
      .Field("provider", provider_->name())
      .Field("service", request.service)
      .Field("from", record.from_target)
      .Field("to", record.to_target)
      .Field("urgent", request.urgent)
      .Field("seconds", absl::ToDoubleSeconds(outcome.duration));
  if (!status.ok()) log.Field("error", status);
  if (!recorded.ok()) log.Field("audit_error", recorded);
  RETURN_IF_ERROR(status);
  return outcome;
}

}  // namespace shadowplane::traffic
