// The standard gRPC health service (grpc.health.v1.Health), served from code generated from
// grpc-proto's health.proto so that server reflection can describe it. Check and Watch report what
// ServingStatus says; "" is the whole server.
//
// Thread-safe. Shutdown() ends every Watch stream (after sending NOT_SERVING), so that the gRPC
// server can shut down without waiting for streams that never end on their own.
#ifndef SHADOWPLANE_API_HEALTH_SERVICE_H_
#define SHADOWPLANE_API_HEALTH_SERVICE_H_

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/serving_status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace shadowplane::api {

class HealthWatchReactor;

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit HealthService(ServingStatus* status) : status_(status) {}

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;

  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

  // Marks everything NOT_SERVING and finishes all Watch streams; later Watch calls finish at once.
  void Shutdown();

 private:
  friend class HealthWatchReactor;
  void Forget(HealthWatchReactor* reactor);

  ServingStatus* const status_;
  absl::Mutex mu_;
  std::set<HealthWatchReactor*> watches_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_HEALTH_SERVICE_H_
