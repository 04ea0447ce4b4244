// shadowplane.v1.SyncService: thin handlers over shadow::ShadowSyncer and the sync_runs table.
#ifndef SHADOWPLANE_API_SYNC_SERVICE_H_
#define SHADOWPLANE_API_SYNC_SERVICE_H_

#include "api/access/ownership.h"
#include "common/worker_pool.h"
#include "reservation/reservation_view.h"
#include "shadow/shadow_syncer.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "store/sync_run_repository.h"

namespace shadowplane::api {

class SyncService final : public shadowplane::v1::SyncService::CallbackService {
 public:
  // SyncNow blocks for a whole round: it runs on `workers`. Only the reservation's team (or an
  // admin) may ask for one (`ownership`). A round changes the reservation's sync fields: it is
  // dropped from `view` (may be null) before the answer.
  SyncService(shadow::ShadowSyncer* syncer, store::SyncRunRepository* runs, WorkerPool* workers,
              access::Ownership* ownership, reservation::ReservationView* view = nullptr)
      : syncer_(syncer), runs_(runs), workers_(workers), ownership_(ownership), view_(view) {}

  grpc::ServerUnaryReactor* SyncNow(grpc::CallbackServerContext* context,
                                    const shadowplane::v1::SyncNowRequest* request,
                                    shadowplane::v1::SyncRun* response) override;
  grpc::ServerUnaryReactor* ListSyncRuns(grpc::CallbackServerContext* context,
                                         const shadowplane::v1::ListSyncRunsRequest* request,
                                         shadowplane::v1::ListSyncRunsResponse* response) override;

 private:
  shadow::ShadowSyncer* const syncer_;
  store::SyncRunRepository* const runs_;
  WorkerPool* const workers_;
  access::Ownership* const ownership_;
  reservation::ReservationView* const view_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_SYNC_SERVICE_H_
