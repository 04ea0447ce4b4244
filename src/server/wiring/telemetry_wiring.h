// Telemetry: client origins (CIDR table and optional GeoIP database), the resource directory,
// the ingest path (validation, the bounded writer, client affinity), demand reads, and the upkeep
// loops (partitions and retention, reloads of resources and client networks, affinity flushes).
// Destroying it stops the loops, then drains what was accepted into the database.
#ifndef SHADOWPLANE_SERVER_WIRING_TELEMETRY_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_TELEMETRY_WIRING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ingest/affinity_tracker.h"
#include "ingest/demand_reader.h"
#include "ingest/event_validator.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/ingest_writer.h"
#include "ingest/origin_lookup.h"
#include "ingest/resource_directory.h"
#include "ingest/retention_keeper.h"
#include "ingest/telemetry_purger.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

class TelemetryWiring {
 public:
  // INVALID_ARGUMENT naming --geoip_db when the database cannot be opened.
  static absl::StatusOr<std::unique_ptr<TelemetryWiring>> Build(const TelemetrySettings& settings,
                                                                StorageWiring* storage,
                                                                const WiringContext& context);
  ~TelemetryWiring();

  // Re-reads resources, regions and client networks the ingest path checks events against.
  absl::Status RefreshInputs();
  // Starts the upkeep loops; `replica` names this process in leases.
  void StartLoops(const std::string& replica);

  ingest::IngestPipeline* pipeline() { return pipeline_.get(); }
  ingest::DemandReader* demand_reader() { return demand_reader_.get(); }
  ingest::TelemetryPurger* purger() { return purger_.get(); }

 private:
  TelemetryWiring(const TelemetrySettings& settings, StorageWiring* storage,
                  const WiringContext& context)
      : settings_(settings), storage_(storage), context_(context) {}

  const TelemetrySettings settings_;
  StorageWiring* const storage_;
  const WiringContext context_;
  // In dependency order: destruction is the teardown.
  std::unique_ptr<ingest::OriginLookup> origins_;
  std::unique_ptr<ingest::ResourceDirectory> directory_;
  std::unique_ptr<ingest::EventValidator> validator_;
  std::unique_ptr<ingest::AffinityTracker> affinity_;
  std::unique_ptr<ingest::IngestWriter> writer_;
  std::unique_ptr<ingest::IngestPipeline> pipeline_;
  std::unique_ptr<ingest::DemandReader> demand_reader_;
  std::unique_ptr<ingest::RetentionKeeper> retention_keeper_;
  std::unique_ptr<ingest::TelemetryPurger> purger_;
  std::unique_ptr<PeriodicTask> refresh_loop_;
  std::unique_ptr<PeriodicTask> retention_loop_;
  std::unique_ptr<PeriodicTask> purge_loop_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_TELEMETRY_WIRING_H_
