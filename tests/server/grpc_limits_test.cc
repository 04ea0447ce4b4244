// The limits every gRPC server of ours runs with (server/serving_endpoints.h), against a real
// server on loopback: messages past the receive size, streams past the per-connection cap, and
// synchronous handlers past their thread budget.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/serving_endpoints.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"

namespace shadowplane::server {
namespace {

namespace v1 = shadowplane::agent::v1;

// A synchronous Pull that holds its thread until released, counting how many run at once.
class HoldingService final : public v1::SyncService::Service {
 public:
  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::PullResponse, v1::PullRequest>* stream) override {
    v1::PullRequest request;
    if (!stream->Read(&request)) return grpc::Status(grpc::StatusCode::CANCELLED, "no request");
    {
      absl::MutexLock lock(&mu_);
      ++running_;
      peak_ = std::max(peak_, running_);
      mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(20));
      --running_;
    }
    return grpc::Status::OK;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int running() {
    absl::MutexLock lock(&mu_);
    return running_;
  }
  int peak() {
    absl::MutexLock lock(&mu_);
    return peak_;
  }

 private:
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int peak_ ABSL_GUARDED_BY(mu_) = 0;
};

class GrpcLimitsTest : public ::testing::Test {
 protected:
  void Start(const GrpcLimits& limits) {
    GrpcServerSpec spec;
    spec.listen = "127.0.0.1:0";
    spec.services = {&service_};
    spec.registry = &registry_;
    spec.limits = limits;
    auto server = StartGrpcServer(spec, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    service_.Release();
    StopGrpcServer(server_, nullptr, absl::Seconds(1));
  }
  std::shared_ptr<grpc::Channel> NewChannel() {
    grpc::ChannelArguments args;
    // A connection of its own, not one shared with the other channels of the test.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // One Pull call on `channel` sending `request`, ending by `deadline`.
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<v1::PullRequest, v1::PullResponse>> stream;
  };
  std::unique_ptr<Call> Open(const std::shared_ptr<grpc::Channel>& channel,
                             const v1::PullRequest& request, absl::Duration deadline) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    call->stream = v1::SyncService::NewStub(channel)->Pull(&call->context);
    call->stream->Write(request);
    return call;
  }
  static grpc::Status Finish(Call& call) {
    call.stream->WritesDone();
    v1::PullResponse response;
    while (call.stream->Read(&response)) {
    }
    return call.stream->Finish();
  }
  bool AwaitRunning(int n) {
    for (int i = 0; i < 500 && service_.running() < n; ++i) absl::SleepFor(absl::Milliseconds(10));
    return service_.running() >= n;
  }

  HoldingService service_;
  prometheus::Registry registry_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

v1::PullRequest Small() {
  v1::PullRequest r;
  r.mutable_open()->set_instance_id("i");
  return r;
}

TEST_F(GrpcLimitsTest, AMessagePastTheReceiveSizeIsRefused) {
  GrpcLimits limits;
  limits.max_receive_message_bytes = 64 << 10;
  Start(limits);
  v1::PullRequest large;
  large.mutable_file()->set_signature(std::string(100 << 10, 'x'));
  auto call = Open(NewChannel(), large, absl::Seconds(10));
  grpc::Status status = Finish(*call);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(service_.peak(), 0) << "the handler saw the oversized message";
  // A message within the limit gets through.
  service_.Release();
  auto small = Open(NewChannel(), Small(), absl::Seconds(10));
  EXPECT_TRUE(Finish(*small).ok());
}

TEST_F(GrpcLimitsTest, StreamsPastThePerConnectionCapWaitWhileOtherConnectionsProceed) {
  GrpcLimits limits;
  limits.max_concurrent_streams = 2;
  Start(limits);
  std::shared_ptr<grpc::Channel> shared = NewChannel();
  auto first = Open(shared, Small(), absl::Seconds(20));
  auto second = Open(shared, Small(), absl::Seconds(20));
  ASSERT_TRUE(AwaitRunning(2));
  // A third stream on the same connection is not started while two are open ...
  auto third = Open(shared, Small(), absl::Milliseconds(700));
  // ... while another connection's stream is.
  auto other = Open(NewChannel(), Small(), absl::Seconds(20));
  EXPECT_TRUE(AwaitRunning(3));
  EXPECT_EQ(Finish(*third).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(service_.peak(), 3);
  service_.Release();
  EXPECT_TRUE(Finish(*first).ok());
  EXPECT_TRUE(Finish(*second).ok());
  EXPECT_TRUE(Finish(*other).ok());
}

TEST_F(GrpcLimitsTest, SynchronousHandlersPastTheirThreadBudgetAreRefused) {
  GrpcLimits limits;
  limits.max_sync_threads = 4;
  Start(limits);
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(Open(NewChannel(), Small(), absl::Seconds(20)));
  // Wait until the server has answered or taken up every call.
  absl::SleepFor(absl::Seconds(1));
  const int running = service_.running();
  service_.Release();
  int refused = 0, served = 0;
  for (auto& call : calls) {
    grpc::Status status = Finish(*call);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++refused;
    if (status.ok()) ++served;
  }
  EXPECT_LE(service_.peak(), 4) << "more handlers ran at once than the thread budget";
  EXPECT_GT(running, 0);
  EXPECT_GT(refused, 0) << "no call was refused past the budget";
  EXPECT_EQ(refused + served, 12);
}

}  // namespace
}  // namespace shadowplane::server
