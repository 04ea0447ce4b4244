// shadowplane.v1.MigrationService: thin handlers over migration::MigrationManager. WatchMigration
// polls the migration's row (every `watch_poll`) and sends it whenever it changed, each watch on
// a thread of its own, at most `max_watches` at once (RESOURCE_EXHAUSTED beyond).
#ifndef SHADOWPLANE_API_MIGRATION_SERVICE_H_
#define SHADOWPLANE_API_MIGRATION_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "api/access/ownership.h"
#include "common/worker_pool.h"
#include "migration/migration_manager.h"
#include "shadowplane/v1/migrations.grpc.pb.h"

namespace shadowplane::api {

class MigrationService final : public shadowplane::v1::MigrationService::CallbackService {
 public:
  // Migrate and CancelMigration are checked against the caller's team (`ownership`).
  MigrationService(migration::MigrationManager* manager, WorkerPool* workers,
                   access::Ownership* ownership,
                   absl::Duration watch_poll = absl::Milliseconds(200), int max_watches = 64)
      : manager_(manager),
        workers_(workers),
        ownership_(ownership),
        watch_poll_(watch_poll),
        max_watches_(max_watches) {}
  ~MigrationService() override;

  grpc::ServerUnaryReactor* Migrate(grpc::CallbackServerContext* context,
                                    const shadowplane::v1::MigrateRequest* request,
                                    shadowplane::v1::Migration* response) override;
  grpc::ServerUnaryReactor* GetMigration(grpc::CallbackServerContext* context,
                                         const shadowplane::v1::GetMigrationRequest* request,
                                         shadowplane::v1::Migration* response) override;
  grpc::ServerUnaryReactor* ListMigrations(
      grpc::CallbackServerContext* context, const shadowplane::v1::ListMigrationsRequest* request,
      shadowplane::v1::ListMigrationsResponse* response) override;
  grpc::ServerUnaryReactor* CancelMigration(grpc::CallbackServerContext* context,
                                            const shadowplane::v1::CancelMigrationRequest* request,
                                            shadowplane::v1::Migration* response) override;
  grpc::ServerWriteReactor<shadowplane::v1::Migration>* WatchMigration(
      grpc::CallbackServerContext* context,
      const shadowplane::v1::WatchMigrationRequest* request) override;

 private:
  class Watch;

  migration::MigrationManager* const manager_;
  WorkerPool* const workers_;
  access::Ownership* const ownership_;
  const absl::Duration watch_poll_;
  const int max_watches_;
  std::atomic<int> watches_{0};
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_MIGRATION_SERVICE_H_
