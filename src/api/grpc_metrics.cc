#include "api/grpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shadowplane::api {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

// go-grpc-prometheus's code names (grpc-go codes.Code.String()).
const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Canceled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Unknown";
  }
}

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

struct Families {
  prometheus::Family<prometheus::Counter>* started;
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* seconds;
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerRpcInfo* info, const Families& families)
      : families_(families), start_(absl::Now()) {
    // "/package.Service/Method"
    const std::string full = info->method() != nullptr ? info->method() : "";
    const size_t slash = full.rfind('/');
    labels_ = {{"grpc_type", TypeName(info->type())},
               {"grpc_service", slash == std::string::npos ? "" : full.substr(1, slash - 1)},
               {"grpc_method", slash == std::string::npos ? full : full.substr(slash + 1)}};
    families_.started->Add(labels_).Increment();
  }

  ~MetricsInterceptor() override {
    // A call that ended without the server sending a status was cancelled by the client.
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    families_.seconds->Add(labels_, kBuckets).Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    std::map<std::string, std::string> labels = labels_;
    labels["grpc_code"] = CodeName(code);
    families_.handled->Add(labels).Increment();
  }

  // go-grpc-prometheus's default buckets, with two finer ones for a fast control plane.
  inline static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  const Families& families_;
  const absl::Time start_;
  std::map<std::string, std::string> labels_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(prometheus::Registry* registry) {
    families_.started = &prometheus::BuildCounter()
                             .Name("grpc_server_started_total")
                             .Help("Total number of RPCs started on the server.")
                             .Register(*registry);
    families_.handled = &prometheus::BuildCounter()
                             .Name("grpc_server_handled_total")
                             .Help(
                                 "Total number of RPCs completed on the server, regardless of "
                                 "success or failure.")
                             .Register(*registry);
    families_.seconds = &prometheus::BuildHistogram()
                             .Name("grpc_server_handling_seconds")
                             .Help(
                                 "Histogram of response latency (seconds) of gRPC that had been "
                                 "application-level handled by the server.")
                             .Register(*registry);
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, families_);
  }

 private:
  Families families_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    prometheus::Registry* registry) {
  return std::make_unique<MetricsInterceptorFactory>(registry);
}

}  // namespace shadowplane::api
