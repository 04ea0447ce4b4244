// shadowplane.v1.AuditService: the audit trail (store/audit_repository.h), read.
#ifndef SHADOWPLANE_API_AUDIT_SERVICE_H_
#define SHADOWPLANE_API_AUDIT_SERVICE_H_

#include "common/worker_pool.h"
#include "shadowplane/v1/audit.grpc.pb.h"
#include "store/audit_repository.h"

namespace shadowplane::api {

class AuditService final : public shadowplane::v1::AuditService::CallbackService {
 public:
  AuditService(store::AuditRepository* repository, WorkerPool* workers)
      : repository_(repository), workers_(workers) {}

  grpc::ServerUnaryReactor* ListAuditEvents(
      grpc::CallbackServerContext* context, const shadowplane::v1::ListAuditEventsRequest* request,
      shadowplane::v1::ListAuditEventsResponse* response) override;

 private:
  store::AuditRepository* const repository_;
  WorkerPool* const workers_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_AUDIT_SERVICE_H_
