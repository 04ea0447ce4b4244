#include "server/wiring/telemetry_wiring.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "geo/geoip_database.h"

namespace shadowplane::server {

namespace {
// GetDemand: buckets per series at most (400 days of hours is 9,600).
constexpr int kMaxDemandPoints = 10'000;
}  // namespace

absl::StatusOr<std::unique_ptr<TelemetryWiring>> TelemetryWiring::Build(
    const TelemetrySettings& settings, StorageWiring* storage, const WiringContext& context) {
  std::unique_ptr<TelemetryWiring> w(new TelemetryWiring(settings, storage, context));
  std::shared_ptr<const geo::GeoIpDatabase> geoip;
  if (!settings.geoip_db.empty()) {
    auto opened = geo::GeoIpDatabase::Open(settings.geoip_db, settings.geoip_field);
    if (!opened.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--geoip_db: ", opened.status().message()));
    }
    geoip = *std::move(opened);
  }
  w->origins_ = std::make_unique<ingest::OriginLookup>(std::move(geoip));
  store::TelemetryRepository* telemetry = storage->telemetry();
  w->directory_ = std::make_unique<ingest::ResourceDirectory>(
      [telemetry]() -> absl::StatusOr<ingest::DirectorySnapshot> {
        ASSIGN_OR_RETURN(store::ResourceDirectoryRows rows, telemetry->LoadResourceDirectory());
        return ingest::SnapshotFromRows(std::move(rows));
      },
      absl::Milliseconds(200));
  ingest::ValidationOptions validation;
  validation.raw_retention = settings.access_log_retention;
  validation.demand_retention = settings.demand_retention;
  if (!ingest::ParseClientIpStorage(settings.client_ip_storage, &validation.client_ip_storage)) {
    return absl::InvalidArgumentError("--client_ip_storage: must be full, truncated or hashed");
  }
  if (validation.client_ip_storage == ingest::ClientIpStorage::kHashed) {
    absl::StatusOr<std::string> key = ReadFile(settings.client_ip_hash_key_file);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--client_ip_hash_key_file: ", key.status().message()));
    }
    if (key->size() < ingest::kMinClientIpKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--client_ip_hash_key_file: the key must be at least ", ingest::kMinClientIpKeyBytes,
          " bytes, ", settings.client_ip_hash_key_file, " holds ", key->size()));
    }
    validation.client_ip_key = *std::move(key);
  }
  w->validator_ = std::make_unique<ingest::EventValidator>(context.clock, w->directory_.get(),
                                                           w->origins_.get(), validation);
  ingest::AffinityOptions affinity;
  affinity.resolution = settings.affinity_resolution;
  w->affinity_ = std::make_unique<ingest::AffinityTracker>(telemetry, affinity, context.registry);
  ingest::IngestWriterOptions writer;
  writer.max_queued_records = settings.ingest_queue_records;
  writer.max_group_records = settings.ingest_group_records;
  writer.commit_deadline = settings.ingest_commit_deadline;
  writer.retry_after = settings.ingest_retry_after;
  writer.writers = settings.ingest_writers;
  w->writer_ = std::make_unique<ingest::IngestWriter>(storage->access_log(), context.clock,
                                                      w->affinity_.get(), writer, context.registry);
  ingest::PipelineOptions pipeline;
  pipeline.max_batch_events = settings.max_batch_events;
  pipeline.validate_threads = settings.ingest_threads;
  w->pipeline_ =
      std::make_unique<ingest::IngestPipeline>(w->validator_.get(), w->writer_.get(), pipeline);
  w->demand_reader_ =
      std::make_unique<ingest::DemandReader>(telemetry, context.clock, kMaxDemandPoints);
  ingest::TelemetryPurgeOptions purge;
  // Every replica has reloaded its directory twice, coalesced affinity has been flushed, and a
  // group commit in flight has ended.
  purge.settle = 2 * settings.telemetry_refresh_interval + settings.affinity_flush_interval +
                 settings.ingest_commit_deadline + absl::Seconds(5);
  purge.on_requested = [directory = w->directory_.get()] {
    if (absl::Status s = directory->Reload(); !s.ok()) {
      LOG_EVENT(kWarning, "resources not reloaded after a purge request").Field("error", s);
    }
  };
  w->purger_ = std::make_unique<ingest::TelemetryPurger>(storage->telemetry_purges(), purge,
                                                         context.registry);
  return w;
}

TelemetryWiring::~TelemetryWiring() {
  // The loops first, then batches already taken are committed before the database goes.
  purge_loop_.reset();
  retention_loop_.reset();
  refresh_loop_.reset();
  if (pipeline_ != nullptr) pipeline_->Shutdown();
  if (writer_ != nullptr) writer_->Stop();
  if (affinity_ != nullptr) affinity_->Stop();  // with a last flush
}

absl::Status TelemetryWiring::RefreshInputs() {
  RETURN_IF_ERROR(directory_->Reload());
  ASSIGN_OR_RETURN(std::vector<store::GeoNetworkRow> networks,
                   storage_->telemetry()->GeoNetworks());
  std::vector<geo::CidrRule> rules;
  for (const store::GeoNetworkRow& n : networks) rules.push_back({n.network, n.region});
  return origins_->SetNetworks(rules);
}

void TelemetryWiring::StartLoops(const std::string& replica) {
  ingest::RetentionOptions retention;
  retention.raw_retention = settings_.access_log_retention;
  retention.demand_retention = settings_.demand_retention;
  retention.batch_dedup_window = settings_.batch_dedup_window;
  retention.owner = replica;
  retention.lease_ttl = 3 * settings_.retention_interval;
  retention_keeper_ = std::make_unique<ingest::RetentionKeeper>(
      storage_->access_log(), storage_->leases(), context_.clock, retention, context_.registry);
  refresh_loop_ = std::make_unique<PeriodicTask>(settings_.telemetry_refresh_interval, [this] {
    if (!context_.database_ready()) return;
    if (absl::Status s = RefreshInputs(); !s.ok()) {
      LOG_EVENT(kWarning, "reloading resources and client networks failed").Field("error", s);
    }
  });
  affinity_->Start(settings_.affinity_flush_interval, context_.database_ready);
  // Idempotent deletes: every replica may run them; one usually finds nothing due.
  purge_loop_ = std::make_unique<PeriodicTask>(settings_.telemetry_refresh_interval, [this] {
    if (!context_.database_ready()) return;
    if (absl::StatusOr<int> ran = purger_->RunOnce(); !ran.ok()) {
      LOG_EVENT(kWarning, "telemetry purge pass failed").Field("error", ran.status());
    }
  });
  // The first pass runs as soon as the database is ready (partitions for today and ahead).
  retention_loop_ = StartPassLoop(settings_.retention_interval, context_.database_ready, [this] {
    absl::StatusOr<bool> ran = retention_keeper_->RunOnce();
    if (!ran.ok()) {
      LOG_EVENT(kWarning, "telemetry retention pass failed").Field("error", ran.status());
    }
    return ran.ok();
  });
}

}  // namespace shadowplane::server
