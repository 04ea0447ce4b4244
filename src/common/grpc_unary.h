// The shapes unary handlers share: run the body, finish the call with its status.
#ifndef SHADOWPLANE_COMMON_GRPC_UNARY_H_
#define SHADOWPLANE_COMMON_GRPC_UNARY_H_

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/call_gate.h"
#include "common/grpc_status.h"
#include "common/paging.h"
#include "common/request_text.h"
#include "common/worker_pool.h"

namespace shadowplane {

// The access check's verdict on the call (common/call_gate.h): OK, or why it is refused.
inline absl::Status AccessVerdict(const grpc::ServerContextBase* context) {
  return CallGate::Verdict(context);
}

// Streaming handlers refused before they start (by the access check, or a bad request): each
// finishes at once with its status.
template <typename Response>
class RefusedWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedWriter(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};
template <typename Request, typename Response>
class RefusedBidi final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedBidi(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

template <typename Fn>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context, Fn&& body) {
  absl::Status status = AccessVerdict(context);
  if (status.ok()) status = CallGate::RunIntent(context);
  if (status.ok()) status = body();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// For handlers that block (database, agents): runs the body on `workers` so that gRPC's own
// threads, which drive every call, are never held; RESOURCE_EXHAUSTED at once when the pool's queue
// is full. `body` must capture by value: the handler's locals are gone when it runs. A `request`
// with a NUL character in any of its strings is refused before the body (common/request_text.h).
template <typename Fn>
grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* context,
                                       const google::protobuf::Message* request,
                                       WorkerPool* workers, Fn body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status verdict = AccessVerdict(context); !verdict.ok()) {
    reactor->Finish(ToGrpcStatus(verdict));
    return reactor;
  }
  // The call, and so its context, lasts until Finish().
  const absl::Status queued =
      workers->Submit([reactor, context, request, body = std::move(body)]() mutable {
        absl::Status status = CallGate::RunIntent(context);
        if (status.ok()) status = CheckRequestText(*request);
        if (status.ok()) status = body();
        reactor->Finish(ToGrpcStatus(status));
      });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

// For reads that memory can often answer: `fast` runs on gRPC's thread, so it must never block;
// it returns the call's status when it answered, or nullopt when it cannot, and then `body` runs on
// `workers` as with FinishOnPool. A call that is refused, has work to do first (a recorded intent)
// or a request with a NUL always takes FinishOnPool's way.
template <typename Fast, typename Fn>
grpc::ServerUnaryReactor* FinishFromMemoryOrOnPool(grpc::CallbackServerContext* context,
                                                   const google::protobuf::Message* request,
                                                   WorkerPool* workers, Fast fast, Fn body) {
  if (AccessVerdict(context).ok() && !CallGate::HasIntent(context) &&
      CheckRequestText(*request).ok()) {
    if (std::optional<absl::Status> answered = fast(); answered.has_value()) {
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(ToGrpcStatus(*answered));
      return reactor;
    }
  }
  return FinishOnPool(context, request, workers, std::move(body));
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_UNARY_H_
