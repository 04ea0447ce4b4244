#include "server/shadowplane_server.h"

#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "catalog/catalog.h"
#include "common/certificate_expiry_metric.h"
#include "common/clock.h"
#include "common/listen_address.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/serving_status.h"
#include "common/status_macros.h"
#include "common/transport_security.h"
#include "server/serving_endpoints.h"
#include "server/wiring/api_wiring.h"
#include "server/wiring/compute_wiring.h"
#include "server/wiring/forecast_wiring.h"
#include "server/wiring/migration_wiring.h"
#include "server/wiring/planner_wiring.h"
#include "server/wiring/reservation_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/telemetry_wiring.h"
#include "store/embedded_migrations.h"
#include "store/migration_runner.h"

#ifndef SHADOWPLANE_VERSION
#define SHADOWPLANE_VERSION "unknown"
#endif
#ifndef SHADOWPLANE_GIT_COMMIT
#define SHADOWPLANE_GIT_COMMIT "unknown"
#endif

namespace shadowplane::server {

// The process's parts, one wiring unit per area (src/server/wiring/), declared in dependency
// order: destroying them is the teardown, the API first and the database last.
struct Areas {
  // The supervisor first: no readiness callback may run while the areas go.
  ~Areas() {
    if (storage != nullptr) storage->StopSupervisor();
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  std::unique_ptr<StorageWiring> storage;
  std::unique_ptr<ComputeWiring> compute;
  std::unique_ptr<TelemetryWiring> telemetry;
  std::unique_ptr<ForecastWiring> forecasting;
  std::unique_ptr<ReservationWiring> reservations;
  std::unique_ptr<MigrationWiring> migrations;
  std::unique_ptr<PlannerWiring> planning;
  std::unique_ptr<ApiWiring> api;
};

class ShadowplaneServer::Impl {
 public:
  explicit Impl(const ServerOptions& options) : options_(options) {}

  absl::Status Start() {
    RETURN_IF_ERROR(options_.Validate());
    ASSIGN_OR_RETURN(clock_,
                     MakeDomainClock(options_.process.time_scale, options_.process.time_epoch));
    std::vector<store::MigrationFile> files = store::EmbeddedMigrationFiles();
    if (!options_.storage.migrations_dir.empty()) {
      ASSIGN_OR_RETURN(files, store::ReadMigrationDir(options_.storage.migrations_dir));
    }
    ASSIGN_OR_RETURN(std::vector<store::Migration> schema, store::ParseMigrations(files));
    if (!options_.compute.locations_file.empty()) {
      ASSIGN_OR_RETURN(catalog_, catalog::LoadCatalogFile(options_.compute.locations_file));
    }
    transport_ = TransportSecurity::Insecure();
    if (!options_.process.insecure) {
      ASSIGN_OR_RETURN(transport_, TransportSecurity::FromFiles(options_.process.tls));
    }

    registry_ = std::make_shared<prometheus::Registry>();
    ASSIGN_OR_RETURN(areas_->exposer,
                     StartMetricsEndpoint(options_.process.metrics_listen, "metrics_listen",
                                          registry_, &metrics_port_));
    if (transport_->tls()) {
      cert_expiry_ = std::make_shared<CertificateExpiryMetric>(options_.process.tls.cert);
      areas_->exposer->RegisterCollectable(cert_expiry_);
    }
    prometheus::BuildGauge()
        .Name("shadowplane_build_info")
        .Help("Always 1; labels say which build is running")
        .Register(*registry_)
        .Add({{"version", SHADOWPLANE_VERSION}, {"git_commit", SHADOWPLANE_GIT_COMMIT}})
        .Set(1);
    // Not serving until the database supervisor says so.
    for (const char* service : kServedServices) serving_.Set(service, false);
    // A taken port is reported before the (slower) embedded database starts.
    if (std::string why; !CanBind(options_.process.listen, &why)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot listen for gRPC on --listen=", options_.process.listen, ": ", why));
    }

    ASSIGN_OR_RETURN(areas_->storage, StorageWiring::Build(
                                          options_.storage, std::move(schema), &serving_,
                                          registry_.get(), [this] { return OnDatabaseReady(); },
                                          [this](const absl::Status& status) { Stop(status); }));
    // Storage goes last: every other area may hold on to it.
    StorageWiring* storage = areas_->storage.get();
    WiringContext context;
    context.clock = clock_.get();
    context.registry = registry_.get();
    context.database_ready = [storage] { return storage->ready(); };
    context.catalog = &catalog_;
    context.transport = transport_;
    if (!options_.process.tokens_file.empty()) {
      ASSIGN_OR_RETURN(context.tokens, api::access::TokenStore::Open(options_.process.tokens_file));
    }
    ASSIGN_OR_RETURN(areas_->compute, ComputeWiring::Build(options_.compute, options_.traffic,
                                                           areas_->storage.get(), context));
    ASSIGN_OR_RETURN(areas_->telemetry,
                     TelemetryWiring::Build(options_.telemetry, areas_->storage.get(), context));
    areas_->forecasting = std::make_unique<ForecastWiring>(
        options_.forecast, PlannerPathSums(options_), PlacementRtt(options_.placement, context),
        areas_->storage.get(), context);
    areas_->reservations = std::make_unique<ReservationWiring>(options_, areas_->storage.get(),
                                                               areas_->compute.get(), context);
    // The port is not bound yet: the migrations' lease owner has none.
    areas_->migrations =
        std::make_unique<MigrationWiring>(options_, areas_->storage.get(), areas_->compute.get(),
                                          areas_->reservations.get(), context, ReplicaName(0));
    areas_->planning =
        std::make_unique<PlannerWiring>(options_, areas_->storage.get(), areas_->forecasting.get(),
                                        areas_->migrations.get(), context);
    ApiParts api;
    api.storage = areas_->storage.get();
    api.telemetry = areas_->telemetry.get();
    api.forecasting = areas_->forecasting.get();
    api.reservations = areas_->reservations.get();
    api.migrations = areas_->migrations.get();
    api.planning = areas_->planning.get();
    api.serving = &serving_;
    api.facts = [this, storage] { return Facts(*storage); };
    ASSIGN_OR_RETURN(areas_->api, ApiWiring::Start(options_, api, context));
    grpc_port_ = areas_->api->port();

    areas_->storage->StartSupervisor();
    areas_->migrations->StartDriver();
    const std::string replica = ReplicaName(grpc_port_);
    areas_->reservations->StartLoops(replica);
    areas_->telemetry->StartLoops(replica);
    areas_->forecasting->StartLoop(replica);
    areas_->planning->StartLoop(replica);
    LOG_EVENT(kInfo, "shadowplane started")
        .Field("version", SHADOWPLANE_VERSION)
        .Field("grpc", absl::StrCat(HostOf(options_.process.listen), ":", grpc_port_))
        .Field("metrics", absl::StrCat("http://", HostOf(options_.process.metrics_listen), ":",
                                       metrics_port_, "/metrics"))
        .Field("transport",
               transport_->tls()
                   ? absl::StrCat("tls as ", absl::StrJoin(transport_->identities(), ","))
                   : std::string("plaintext (--insecure)"))
        .Field("database", areas_->storage->embedded() ? "embedded" : "external")
        .Field("time_scale", options_.process.time_scale);
    return absl::OkStatus();
  }

  void Stop(absl::Status reason) {
    absl::MutexLock lock(&mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
    stop_reason_ = std::move(reason);
  }

  absl::Status Wait() {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&stop_requested_));
    }
    LOG_EVENT(kInfo, "shutting down").Field("grace_seconds", options_.process.shutdown_grace);
    TearDown();
    absl::MutexLock lock(&mu_);
    return stop_reason_;
  }

  // Safe on a partly started server; idempotent. The areas go in reverse order of declaration.
  void TearDown() {
    const absl::Time start = absl::Now();
    // The supervisor stops while areas_ still points at the areas: its readiness callback
    // (OnDatabaseReady) reads them, and reset() clears the pointer before destroying them.
    if (areas_ != nullptr && areas_->storage != nullptr) areas_->storage->StopSupervisor();
    areas_.reset();
    LOG_EVENT(kDebug, "stopped").Field("elapsed_seconds", absl::Now() - start);
  }

  int grpc_port_ = 0;
  int metrics_port_ = 0;

 private:
  // Runs each time the database becomes ready: the locations file, then what ingest checks
  // events against.
  absl::Status OnDatabaseReady() {
    if (catalog_.has_value()) {
      RETURN_IF_ERROR(catalog::ApplyCatalogFile(*catalog_, *areas_->storage->locations(),
                                                *areas_->storage->telemetry(), clock_->Now()));
      LOG_EVENT(kInfo, "locations file applied")
          .Field("file", options_.compute.locations_file)
          .Field("regions", catalog_->regions.size())
          .Field("locations", catalog_->locations.size())
          .Field("networks", catalog_->networks.size());
    }
    return areas_->telemetry->RefreshInputs();
  }

  static std::string ReplicaName(int port) {
    char host[256] = "unknown";
    gethostname(host, sizeof(host) - 1);
    return absl::StrCat(host, ":", getpid(), ":", port);
  }

  shadowplane::v1::GetServerInfoResponse Facts(const StorageWiring& storage) const {
    shadowplane::v1::GetServerInfoResponse facts;
    facts.set_version(SHADOWPLANE_VERSION);
    facts.set_git_commit(SHADOWPLANE_GIT_COMMIT);
    *facts.mutable_domain_time() = ToProtoTime(clock_->Now());
    facts.set_time_scale(options_.process.time_scale);
    if (const auto* scaled = dynamic_cast<const ScaledClock*>(clock_.get());
        scaled != nullptr && options_.process.time_scale != 1.0) {
      *facts.mutable_time_epoch() = ToProtoTime(scaled->epoch());
    }
    const bool ready = storage.ready();
    facts.set_database_ready(ready);
    facts.set_schema_version(ready ? storage.schema_version() : 0);
    facts.set_database_mode(options_.storage.database_url.empty() ? "embedded" : "external");
    *facts.mutable_started_at() = ToProtoTime(started_at_);
    return facts;
  }

  const ServerOptions options_;
  const absl::Time started_at_ = absl::Now();
  std::unique_ptr<Clock> clock_;
  std::optional<catalog::CatalogFile> catalog_;
  std::shared_ptr<const TransportSecurity> transport_;
  std::shared_ptr<CertificateExpiryMetric> cert_expiry_;  // scraped through the exposer
  std::shared_ptr<prometheus::Registry> registry_;
  ServingStatus serving_;
  std::unique_ptr<Areas> areas_ = std::make_unique<Areas>();

  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status stop_reason_ ABSL_GUARDED_BY(mu_);
};

ShadowplaneServer::ShadowplaneServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ShadowplaneServer::~ShadowplaneServer() {
  Shutdown();
  impl_->TearDown();
}

absl::StatusOr<std::unique_ptr<ShadowplaneServer>> ShadowplaneServer::Start(
    const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status s = impl->Start(); !s.ok()) {
    impl->TearDown();
    return s;
  }
  return std::unique_ptr<ShadowplaneServer>(new ShadowplaneServer(std::move(impl)));
}

void ShadowplaneServer::Shutdown() { impl_->Stop(absl::OkStatus()); }
absl::Status ShadowplaneServer::Wait() { return impl_->Wait(); }
int ShadowplaneServer::grpc_port() const { return impl_->grpc_port_; }
int ShadowplaneServer::metrics_port() const { return impl_->metrics_port_; }

}  // namespace shadowplane::server
