#include "migration/disruption_count.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::migration {

namespace {

bool AnyEvent(const providers::ClientDisruption& c) {
  return c.held + c.failed + c.forwarded + c.closed + c.stale_reads > 0;
}

}  // namespace

providers::InstanceDisruptions Bounded(providers::InstanceDisruptions report) {
  providers::InstanceDisruptions out;
  out.truncated = report.truncated;
  auto clamp = [&out](int64_t v) {
    if (v < 0 || v > kMaxClientEvents) out.truncated = true;
    return std::clamp<int64_t>(v, 0, kMaxClientEvents);
  };
  for (providers::ClientDisruption& c : report.clients) {
    if (out.clients.size() >= kMaxReportedClients || c.client.empty() ||
        c.client.size() > kMaxClientKeyBytes) {
      out.truncated = true;
      continue;
    }
    c.held = clamp(c.held);
    c.failed = clamp(c.failed);
    c.forwarded = clamp(c.forwarded);
    c.closed = clamp(c.closed);
    c.stale_reads = clamp(c.stale_reads);
    out.clients.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> DisruptedClients(
    const std::vector<providers::InstanceDisruptions>& reports) {
  std::set<std::string> keys;
  for (const providers::InstanceDisruptions& r : reports) {
    for (const providers::ClientDisruption& c : r.clients) {
      if (AnyEvent(c)) keys.insert(c.client);
    }
  }
  return {keys.begin(), keys.end()};
}

store::DisruptionRecord TallyDisruptions(const std::vector<providers::InstanceDisruptions>& reports,
                                         const std::set<std::string>& affine,
                                         int64_t affine_clients) {
  store::DisruptionRecord out;
  out.affine_clients = affine_clients;
  std::set<std::string> disrupted_affine;
  std::set<std::string> disrupted_other;
  for (const providers::InstanceDisruptions& r : reports) {
    out.truncated = out.truncated || r.truncated;
    for (const providers::ClientDisruption& c : r.clients) {
      if (!AnyEvent(c)) continue;
      if (affine.count(c.client) == 0) {
        disrupted_other.insert(c.client);
        continue;
      }
      disrupted_affine.insert(c.client);
      out.held_requests += c.held;
      out.failed_requests += c.failed;
      out.forwarded_requests += c.forwarded;
      out.closed_connections += c.closed;
      out.stale_reads += c.stale_reads;
    }
  }
  out.disrupted_affine_clients = static_cast<int64_t>(disrupted_affine.size());
  out.disrupted_other_clients = static_cast<int64_t>(disrupted_other.size());
  // The affine count and the set come from two reads; never report more disrupted than affine.
  out.affine_clients = std::max(out.affine_clients, out.disrupted_affine_clients);
  return out;
}

DisruptionCounter::DisruptionCounter(store::DisruptionRepository* repository,
                                     providers::ComputeProvider* compute,
                                     absl::Duration affinity_session,
                                     prometheus::Registry* registry)
    : repository_(repository), compute_(compute), affinity_session_(affinity_session) {
  if (registry == nullptr) return;
  affine_ = &prometheus::BuildCounter()
                 .Name("shadowplane_migration_affine_clients_total")
                 .Help(
                     "Clients affine to a resource (seen within --affinity_session) when a "
                     "migration of it froze writes")
                 .Register(*registry)
                 .Add({});
  disrupted_ = &prometheus::BuildCounter()
                    .Name("shadowplane_migration_disrupted_clients_total")
                    .Help(
                        "Clients a migration disrupted (held, failed, forwarded, closed or "
                        "stale), by whether they were affine to the resource")
                    .Register(*registry);
  kinds_ = &prometheus::BuildCounter()
                .Name("shadowplane_migration_disruptions_total")
                .Help(
                    "Disruptions of affine clients by migrations, by kind: held, failed, "
                    "forwarded, closed, stale_read")
                .Register(*registry);
  for (const char* kind : {"held", "failed", "forwarded", "closed", "stale_read"}) {
    kinds_->Add({{"kind", kind}});  // at 0 from the start, for rates and dashboards
  }
}

absl::Status DisruptionCounter::Measure(const store::MigrationRecord& m,
                                        const std::vector<store::InstanceRecord>& instances,
                                        absl::Time now) {
  if (!m.progress.freeze_started_at.has_value() || !m.progress.freeze_started_wall.has_value()) {
    return absl::OkStatus();  // no freeze: an emergency promotion, or nothing to count
  }
  ASSIGN_OR_RETURN(const std::optional<store::DisruptionRecord> stored, repository_->Get(m.id));
  if (stored.has_value()) return absl::OkStatus();

  // A second of slack: the instance stamps an event when its answer leaves, the freeze was stamped
  // just before the hold was asked for.
  const absl::Time since = *m.progress.freeze_started_wall - absl::Seconds(1);
  std::vector<providers::InstanceDisruptions> reports;
  std::vector<std::string> errors;
  for (const store::InstanceRecord& i : instances) {
    if (!store::IsLive(i)) continue;
    absl::StatusOr<providers::InstanceDisruptions> report =
        compute_->Disruptions(i.location, i.id, since);
    if (report.ok()) {
      reports.push_back(Bounded(*std::move(report)));
    } else {
      errors.push_back(
          absl::StrCat("instance ", i.id, " at ", i.location, ": ", report.status().message()));
    }
  }
  const absl::Time affine_since = *m.progress.freeze_started_at - affinity_session_;
  ASSIGN_OR_RETURN(const int64_t affine_count,
                   repository_->CountAffine(m.resource_id, affine_since));
  ASSIGN_OR_RETURN(
      const std::vector<std::string> affine_disrupted,
      repository_->AffineAmong(m.resource_id, DisruptedClients(reports), affine_since));
  store::DisruptionRecord record = TallyDisruptions(
      reports, std::set<std::string>(affine_disrupted.begin(), affine_disrupted.end()),
      affine_count);
  record.migration_id = m.id;
  record.measured_at = now;
  record.error = absl::StrJoin(errors, "; ");
  bool saved = false;
  RETURN_IF_ERROR(repository_->Save(record, &saved));
  if (!saved) return absl::OkStatus();
  if (affine_ != nullptr) {
    affine_->Increment(static_cast<double>(record.affine_clients));
    disrupted_->Add({{"affine", "true"}})
        .Increment(static_cast<double>(record.disrupted_affine_clients));
    disrupted_->Add({{"affine", "false"}})
        .Increment(static_cast<double>(record.disrupted_other_clients));
    kinds_->Add({{"kind", "held"}}).Increment(static_cast<double>(record.held_requests));
    kinds_->Add({{"kind", "failed"}}).Increment(static_cast<double>(record.failed_requests));
    kinds_->Add({{"kind", "forwarded"}}).Increment(static_cast<double>(record.forwarded_requests));
    kinds_->Add({{"kind", "closed"}}).Increment(static_cast<double>(record.closed_connections));
    kinds_->Add({{"kind", "stale_read"}}).Increment(static_cast<double>(record.stale_reads));
  }
  LOG_EVENT(kInfo, "migration disruptions counted")
      .Field("migration_id", m.id)
      .Field("resource_id", m.resource_id)
      .Field("affine_clients", record.affine_clients)
      .Field("disrupted_affine_clients", record.disrupted_affine_clients)
      .Field("disrupted_other_clients", record.disrupted_other_clients)
      .Field("held", record.held_requests)
      .Field("failed", record.failed_requests)
      .Field("forwarded", record.forwarded_requests)
      .Field("closed", record.closed_connections)
      .Field("stale_reads", record.stale_reads)
      .Field("truncated", record.truncated)
      .Field("error", record.error);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<store::DisruptionRecord>> DisruptionCounter::Counted(
    const std::string& migration_id) {
  return repository_->Get(migration_id);
}

}  // namespace shadowplane::migration
