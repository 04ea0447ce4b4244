#include "server/database_supervisor.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <pqxx/connection>

#include "common/backoff.h"
#include "common/log.h"

namespace shadowplane::server {

DatabaseSupervisor::DatabaseSupervisor(store::ConnectionPool* pool,
                                       DatabaseSupervisorOptions options, ServingStatus* serving,
                                       prometheus::Registry* registry,
                                       std::function<void(const absl::Status&)> on_fatal)
    : pool_(pool), options_(std::move(options)), serving_(serving), on_fatal_(std::move(on_fatal)) {
  if (registry == nullptr) return;
  up_gauge_ = &prometheus::BuildGauge()
                   .Name("shadowplane_database_up")
                   .Help("1 while the database is reachable and migrated, else 0")
                   .Register(*registry)
                   .Add({});
  schema_gauge_ = &prometheus::BuildGauge()
                       .Name("shadowplane_schema_version")
                       .Help("Highest schema migration applied to the database")
                       .Register(*registry)
                       .Add({});
  attempts_ = &prometheus::BuildCounter()
                   .Name("shadowplane_database_connect_attempts_total")
                   .Help("Attempts to reach and migrate the database")
                   .Register(*registry)
                   .Add({});
}

DatabaseSupervisor::~DatabaseSupervisor() { Stop(); }

void DatabaseSupervisor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void DatabaseSupervisor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool DatabaseSupervisor::SleepFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void DatabaseSupervisor::SetReady(bool ready) {
  ready_.store(ready);
  if (up_gauge_ != nullptr) up_gauge_->Set(ready ? 1 : 0);
  serving_->SetAll(ready);
}

void DatabaseSupervisor::Loop() {
  Backoff backoff(options_.retry_initial, options_.retry_max);
  int attempt = 0;
  while (true) {
    if (!ready_.load()) {
      ++attempt;
      if (attempts_ != nullptr) attempts_->Increment();
      auto report = pool_->Run("migrating the schema", [&](pqxx::connection& conn) {
        return store::ApplyMigrations(conn, options_.migrations);
      });
      if (report.ok() && options_.on_ready) {
        if (absl::Status s = options_.on_ready(); !s.ok()) report = s;
      }
      if (report.ok()) {
        schema_version_.store(report->schema_version);
        if (schema_gauge_ != nullptr)
          schema_gauge_->Set(static_cast<double>(report->schema_version));
        LOG_EVENT(kInfo, "database ready")
            .Field("schema_version", report->schema_version)
            .Field("migrations_applied", report->applied.size())
            .Field("attempts", attempt);
        attempt = 0;
        backoff.Reset();
        SetReady(true);
        continue;
      }
      // A schema this binary must not touch will not fix itself: stop instead of retrying.
      if (absl::IsFailedPrecondition(report.status()) || absl::IsInvalidArgument(report.status())) {
        LOG_EVENT(kError, "database schema refused").Field("error", report.status());
        on_fatal_(report.status());
        return;
      }
      const absl::Duration delay = backoff.Next();
      LOG_EVENT(kWarning, "database not ready, retrying")
          .Field("attempt", attempt)
          .Field("error", report.status())
          .Field("retry_in_seconds", delay);
      if (!SleepFor(delay)) return;
    } else {
      if (!SleepFor(options_.check_interval)) return;
      if (absl::Status ping = pool_->Ping(); !ping.ok()) {
        LOG_EVENT(kError, "database lost").Field("error", ping);
        SetReady(false);
      }
    }
  }
}

}  // namespace shadowplane::server
