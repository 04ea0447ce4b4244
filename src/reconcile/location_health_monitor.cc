#include "reconcile/location_health_monitor.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "providers/instance_probe.h"

namespace shadowplane::reconcile {
namespace {

bool Unreachable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

LocationHealthMonitor::LocationHealthMonitor(store::LocationRepository* locations,
                                             store::InventoryStore* inventory,
                                             providers::ComputeProvider* compute,
                                             LocationHealthOptions options,
                                             prometheus::Registry* registry)
    : locations_(locations), inventory_(inventory), compute_(compute), options_(options) {
  if (registry == nullptr) return;
  losses_ = &prometheus::BuildCounter()
                 .Name("shadowplane_location_losses_total")
                 .Help(
                     "Locations declared lost: agent and every instance unreachable for "
                     "--primary_loss_timeout.")
                 .Register(*registry)
                 .Add({});
  recoveries_ = &prometheus::BuildCounter()
                     .Name("shadowplane_location_recoveries_total")
                     .Help("Lost locations usable again after --location_recovery of health.")
                     .Register(*registry)
                     .Add({});
  health_ = &prometheus::BuildGauge()
                 .Name("shadowplane_locations")
                 .Help("Locations by health (healthy, lost, recovering).")
                 .Register(*registry);
}

absl::StatusOr<bool> LocationHealthMonitor::AnyInstanceAnswers(const std::string& location) {
  ASSIGN_OR_RETURN(const std::vector<std::string> endpoints,
                   inventory_->LiveInstanceEndpoints(location));
  for (const std::string& endpoint : endpoints) {
    if (providers::InstanceAnswers(endpoint, options_.probe_timeout)) return true;
  }
  return false;
}

absl::StatusOr<LocationHealthPass> LocationHealthMonitor::RunOnce() {
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, locations_->LoadAll());
  LocationHealthPass pass;
  int healthy = 0, lost = 0, recovering = 0;
  for (const store::LocationRecord& l : catalog.locations) {
    if (l.agent_endpoint.empty()) continue;  // nothing runs there
    const absl::Status agent = compute_->ListInstances(l.name).status();
    const absl::Time now = options_.now();
    if (!Unreachable(agent)) {
      unreachable_since_.erase(l.name);
      if (!l.lost_at.has_value()) {
        ++healthy;
      } else if (!l.healthy_since.has_value()) {
        RETURN_IF_ERROR(locations_->MarkAnswering(l.name, now));
        ++pass.answering;
        ++recovering;
        LOG_EVENT(kWarning, "lost location answers again: recovering")
            .Field("location", l.name)
            .Field("lost_at", absl::FormatTime(*l.lost_at))
            .Field("recovery_seconds", options_.recovery);
      } else if (now - *l.healthy_since >= options_.recovery) {
        RETURN_IF_ERROR(locations_->MarkRecovered(l.name));
        ++pass.recovered;
        ++healthy;
        if (recoveries_ != nullptr) recoveries_->Increment();
        LOG_EVENT(kWarning, "location recovered: usable again")
            .Field("location", l.name)
            .Field("lost_at", absl::FormatTime(*l.lost_at))
            .Field("healthy_since", absl::FormatTime(*l.healthy_since));
      } else {
        ++recovering;
      }
      continue;
    }
    const absl::Time since = unreachable_since_.emplace(l.name, now).first->second;
    if (l.lost_at.has_value()) {
      ++lost;
      if (l.healthy_since.has_value()) {
        // Unreachable again while recovering: the recovery starts over when it answers.
        RETURN_IF_ERROR(locations_->MarkLost(l.name, now, ""));
        LOG_EVENT(kWarning, "recovering location unreachable again")
            .Field("location", l.name)
            .Field("error", agent);
      }
      continue;
    }
    if (now - since < options_.loss_timeout) {
      ++healthy;
      continue;
    }
    ASSIGN_OR_RETURN(const bool answers, AnyInstanceAnswers(l.name));
    if (answers) {
      // The agent is down, its instances are not: not a lost location (each primary's lease
      // decides about it).
      ++healthy;
      continue;
    }
    const std::string reason = absl::StrCat("agent and every instance unreachable since ",
                                            absl::FormatTime(since), " (", agent.message(), ")");
    RETURN_IF_ERROR(locations_->MarkLost(l.name, now, reason));
    ++pass.lost;
    ++lost;
    if (losses_ != nullptr) losses_->Increment();
    LOG_EVENT(kError, "location lost").Field("location", l.name).Field("reason", reason);
  }
  if (health_ != nullptr) {
    health_->Add({{"health", "healthy"}}).Set(healthy);
    health_->Add({{"health", "lost"}}).Set(lost);
    health_->Add({{"health", "recovering"}}).Set(recovering);
  }
  return pass;
}

}  // namespace shadowplane::reconcile
