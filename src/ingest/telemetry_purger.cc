#include "ingest/telemetry_purger.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "absl/time/clock.h"
#include "common/log.h"

namespace shadowplane::ingest {

TelemetryPurger::TelemetryPurger(store::TelemetryPurgeRepository* purges,
                                 TelemetryPurgeOptions options, prometheus::Registry* registry)
    : purges_(purges), options_(options) {
  if (registry == nullptr) return;
  purges_total_ = &prometheus::BuildCounter()
                       .Name("shadowplane_telemetry_purges_total")
                       .Help("Purges of a released reservation's telemetry, by result")
                       .Register(*registry);
  rows_total_ = &prometheus::BuildCounter()
                     .Name("shadowplane_telemetry_purged_rows_total")
                     .Help("Telemetry rows deleted by purges of released reservations, by table")
                     .Register(*registry);
}

absl::Status TelemetryPurger::Request(const std::string& reservation_id) {
  absl::Status s = purges_->Request(reservation_id, absl::Now());
  if (!s.ok()) return s;
  LOG_EVENT(kInfo, "telemetry purge requested").Field("reservation_id", reservation_id);
  if (options_.on_requested) options_.on_requested();
  return s;
}

absl::StatusOr<int> TelemetryPurger::RunOnce(const std::string& reservation_id) {
  absl::StatusOr<std::vector<store::PurgeDue>> due =
      purges_->Due(options_.settle, options_.max_per_pass, reservation_id);
  if (!due.ok()) return due.status();
  int ran = 0;
  absl::Status first_error;
  for (const store::PurgeDue& d : *due) {
    const absl::Time now = absl::Now();
    absl::StatusOr<store::PurgedTelemetry> purged = purges_->Purge(d, now);
    if (purges_total_ != nullptr) {
      purges_total_->Add({{"result", purged.ok() ? "done" : "failed"}}).Increment();
    }
    if (!purged.ok()) {
      LOG_EVENT(kWarning, "telemetry purge failed")
          .Field("reservation_id", d.reservation_id)
          .Field("error", purged.status());
      if (first_error.ok()) first_error = purged.status();
      continue;
    }
    ++ran;
    if (rows_total_ != nullptr) {
      rows_total_->Add({{"table", "client_access_log"}})
          .Increment(static_cast<double>(purged->access_rows));
      rows_total_->Add({{"table", "instance_utilization"}})
          .Increment(static_cast<double>(purged->utilization_rows));
      rows_total_->Add({{"table", "demand_hourly"}})
          .Increment(static_cast<double>(purged->demand_rows));
      rows_total_->Add({{"table", "client_affinity"}})
          .Increment(static_cast<double>(purged->affinity_rows));
    }
    LOG_EVENT(kInfo, "reservation telemetry purged")
        .Field("reservation_id", d.reservation_id)
        .Field("resource_id", d.resource_id)
        .Field("final", now >= d.requested_at + options_.settle)
        .Field("access_rows", purged->access_rows)
        .Field("utilization_rows", purged->utilization_rows)
        .Field("demand_rows", purged->demand_rows)
        .Field("affinity_rows", purged->affinity_rows);
  }
  if (ran == 0 && !first_error.ok()) return first_error;
  return ran;
}

}  // namespace shadowplane::ingest
