// The shapes unary handlers share: run the body, finish the call with its status.
#ifndef SHADOWPLANE_COMMON_GRPC_UNARY_H_
#define SHADOWPLANE_COMMON_GRPC_UNARY_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/paging.h"
#include "common/worker_pool.h"

namespace shadowplane {

template <typename Fn>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context, Fn&& body) {
  const absl::Status status = body();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// For handlers that block (database, agents): runs the body on `workers` so that gRPC's own
// threads, which drive every call, are never held; RESOURCE_EXHAUSTED at once when the pool's queue
// is full. `body` must capture by value: the handler's locals are gone when it runs.
template <typename Fn>
grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* context, WorkerPool* workers,
                                       Fn body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status queued = workers->Submit(
      [reactor, body = std::move(body)]() mutable { reactor->Finish(ToGrpcStatus(body())); });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_UNARY_H_
