#include "ingest/retention_keeper.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::ingest {

namespace {
constexpr char kLeaseName[] = "telemetry-retention";
}  // namespace

RetentionKeeper::RetentionKeeper(store::AccessLogStore* store, store::LeaseStore* leases,
                                 const Clock* clock, RetentionOptions options,
                                 prometheus::Registry* registry)
    : store_(store), leases_(leases), clock_(clock), options_(std::move(options)) {
  if (registry == nullptr) return;
  partitions_ = &prometheus::BuildGauge()
                     .Name("shadowplane_access_log_partitions")
                     .Help("Daily partitions of client_access_log")
                     .Register(*registry)
                     .Add({});
  leader_ = &prometheus::BuildGauge()
                 .Name("shadowplane_telemetry_retention_leader")
                 .Help("1 when this replica holds the telemetry-retention lease")
                 .Register(*registry)
                 .Add({});
  dropped_ = &prometheus::BuildCounter()
                  .Name("shadowplane_access_log_partitions_dropped_total")
                  .Help("Daily partitions dropped after the raw retention")
                  .Register(*registry)
                  .Add({});
  pruned_ = &prometheus::BuildCounter()
                 .Name("shadowplane_telemetry_pruned_rows_total")
                 .Help("Rows deleted after their retention, by table")
                 .Register(*registry);
}

absl::StatusOr<bool> RetentionKeeper::RunOnce() {
  ASSIGN_OR_RETURN(const bool held,
                   leases_->TryAcquire(kLeaseName, options_.owner, options_.lease_ttl));
  if (leader_ != nullptr) leader_->Set(held ? 1 : 0);
  if (!held) return false;
  const absl::Time now = clock_->Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  std::vector<absl::CivilDay> ahead;
  for (int i = 0; i <= options_.days_ahead; ++i) ahead.push_back(today + i);
  RETURN_IF_ERROR(store_->EnsurePartitions(ahead));
  const absl::Time raw_cutoff = now - options_.raw_retention;
  const absl::CivilDay first_kept = absl::ToCivilDay(raw_cutoff, absl::UTCTimeZone());
  ASSIGN_OR_RETURN(const int dropped, store_->DropPartitionsBefore(first_kept));
  ASSIGN_OR_RETURN(const store::AccessLogStore::Pruned pruned,
                   store_->Prune(now - options_.demand_retention, raw_cutoff,
                                 now - options_.batch_dedup_window));
  ASSIGN_OR_RETURN(const std::vector<absl::CivilDay> partitions, store_->ListPartitions());
  if (partitions_ != nullptr) {
    partitions_->Set(static_cast<double>(partitions.size()));
    dropped_->Increment(dropped);
    pruned_->Add({{"table", "demand_hourly"}}).Increment(static_cast<double>(pruned.demand_rows));
    pruned_->Add({{"table", "instance_utilization"}})
        .Increment(static_cast<double>(pruned.utilization_rows));
    pruned_->Add({{"table", "client_affinity"}})
        .Increment(static_cast<double>(pruned.affinity_rows));
    pruned_->Add({{"table", "ingest_batches"}}).Increment(static_cast<double>(pruned.batch_ids));
  }
  if (dropped > 0 || pruned.demand_rows > 0 || pruned.utilization_rows > 0 ||
      pruned.batch_ids > 0 || pruned.affinity_rows > 0) {
    LOG_EVENT(kInfo, "telemetry retention applied")
        .Field("partitions_dropped", dropped)
        .Field("first_kept_day", absl::FormatCivilTime(first_kept))
        .Field("demand_rows", pruned.demand_rows)
        .Field("utilization_rows", pruned.utilization_rows)
        .Field("affinity_rows", pruned.affinity_rows)
        .Field("batch_ids", pruned.batch_ids);
  }
  return true;
}

}  // namespace shadowplane::ingest
