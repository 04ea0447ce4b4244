// The RPC benchmark's two halves, in one binary:
//   rpc_bench echo-server --listen=HOST:PORT
//       serves shadowplane.bench.EchoService with the same gRPC settings as shadowplane
//       (server/serving_endpoints.h: callback API, metrics interceptor, reflection).
//   rpc_bench load --target=HOST:PORT --method=echo|get_reservation|list_locations
//                  [--id=RESERVATION_ID] [--inflight=64] [--count=N] [--max_seconds=S]
//       keeps `inflight` calls outstanding until `count` are done or time runs out, and prints
//       one line: method calls ok errors seconds calls_per_second p50_ms p99_ms.
// bench/run_rpc_bench.sh runs both against shadowplane and prints the comparison.

#include <grpcpp/grpcpp.h>
#include <prometheus/registry.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench_transport.h"
#include "common/transport_security.h"
#include "server/serving_endpoints.h"
#include "shadowplane/bench/echo.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50099", "echo-server: listen address");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "load: server address");
ABSL_FLAG(std::string, method, "echo", "load: echo, get_reservation or list_locations");
ABSL_FLAG(std::string, id, "", "load: the reservation id for get_reservation");
ABSL_FLAG(int, inflight, 64, "load: calls kept in flight");
ABSL_FLAG(int, count, 100000, "load: calls to make");
ABSL_FLAG(double, max_seconds, 60, "load: stop after this long even if count is not reached");
ABSL_FLAG(std::string, tls_dir, "",
          "TLS with the certificates deploy/local-ca.sh made there (echo-server: server.pem; "
          "load: ca.pem); empty: plaintext");
ABSL_FLAG(std::string, token, "", "load: sent as `authorization: Bearer` on every call");

namespace {

namespace pb = shadowplane::v1;
namespace bench = shadowplane::bench;

class EchoService final : public bench::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const bench::EchoRequest* request,
                                 bench::EchoResponse* response) override {
    response->set_id(request->id());
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int EchoServer() {
  auto registry = std::make_shared<prometheus::Registry>();
  EchoService service;
  int port = 0;
  shadowplane::server::GrpcServerSpec spec;
  spec.listen = absl::GetFlag(FLAGS_listen);
  spec.services = {&service};
  spec.registry = registry.get();
  if (const std::string dir = absl::GetFlag(FLAGS_tls_dir); !dir.empty()) {
    shadowplane::TlsFiles files{dir + "/server.pem", dir + "/server.key", dir + "/ca.pem"};
    auto security = shadowplane::TransportSecurity::FromFiles(files);
    if (!security.ok()) {
      std::cerr << "rpc_bench: " << security.status().message() << "\n";
      return 1;
    }
    // As shadowplane's listener: a client certificate asked for, not required.
    spec.credentials = (*security)->ServerCredentials(shadowplane::ClientCertificates::kOptional);
  }
  auto server = shadowplane::server::StartGrpcServer(spec, &port);
  if (!server.ok()) {
    std::cerr << "rpc_bench: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "echo server on port " << port << "\n";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  return 0;
}

// One outstanding call at a time. A call's context must outlive its callback, and the next call
// starts inside that callback: so contexts rotate, and the one replaced is three calls old.
struct Slot {
  std::unique_ptr<grpc::ClientContext> contexts[3];
  int turn = 0;
  grpc::ClientContext* NextContext() {
    turn = (turn + 1) % 3;
    contexts[turn] = std::make_unique<grpc::ClientContext>();
    return contexts[turn].get();
  }
  absl::Time started;
  bench::EchoRequest echo_request;
  bench::EchoResponse echo_response;
  pb::GetReservationRequest get_request;
  pb::Reservation get_response;
  pb::ListLocationsRequest list_request;
  pb::ListLocationsResponse list_response;
};

int Load() {
  const std::string method = absl::GetFlag(FLAGS_method);
  const int inflight = std::max(1, absl::GetFlag(FLAGS_inflight));
  const int count = std::max(1, absl::GetFlag(FLAGS_count));
  const absl::Time deadline = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_max_seconds));
  auto transport = shadowplane::bench::ClientTransport(absl::GetFlag(FLAGS_tls_dir));
  if (!transport.ok()) {
    std::cerr << "rpc_bench: " << transport.status().message() << "\n";
    return 1;
  }
  const std::string token = absl::GetFlag(FLAGS_token);
  auto channel =
      (*transport)
          ->Channel(absl::GetFlag(FLAGS_target), std::string(shadowplane::kControlPlaneIdentity));
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
    std::cerr << "rpc_bench: cannot connect to " << absl::GetFlag(FLAGS_target) << "\n";
    return 1;
  }
  auto echo = bench::EchoService::NewStub(channel);
  auto reservations = pb::ReservationService::NewStub(channel);
  auto locations = pb::LocationService::NewStub(channel);
  if (method != "echo" && method != "get_reservation" && method != "list_locations") {
    std::cerr << "rpc_bench: unknown --method " << method << "\n";
    return 2;
  }

  std::mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(count);
  std::atomic<int> claimed{0}, errors{0};
  // A slot retires when it declines to start another call (count reached or time up). Everything
  // here is this function's locals, which callbacks on gRPC's threads use: it returns only after
  // every slot retired, and retiring is the last thing a callback does with them.
  std::atomic<int> retired{0};
  absl::Notification all_retired;
  std::vector<Slot> slots(inflight);
  std::function<void(Slot&)> start;
  auto on_done = [&](Slot& slot, const grpc::Status& status) {
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - slot.started);
    {
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.push_back(ms);
    }
    if (!status.ok()) errors++;
    start(slot);
  };
  start = [&](Slot& slot) {
    if (absl::Now() > deadline || claimed.fetch_add(1) >= count) {
      if (++retired == inflight) all_retired.Notify();
      return;
    }
    grpc::ClientContext* context = slot.NextContext();
    // No call outlives the run by much, so retiring never waits on a server that stopped.
    context->set_deadline(absl::ToChronoTime(deadline + absl::Seconds(5)));
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    slot.started = absl::Now();
    if (method == "echo") {
      echo->async()->Echo(context, &slot.echo_request, &slot.echo_response,
                          [&, s = &slot](grpc::Status status) { on_done(*s, status); });
    } else if (method == "get_reservation") {
      slot.get_request.set_id(absl::GetFlag(FLAGS_id));
      reservations->async()->GetReservation(
          context, &slot.get_request, &slot.get_response,
          [&, s = &slot](grpc::Status status) { on_done(*s, status); });
    } else {
      locations->async()->ListLocations(
          context, &slot.list_request, &slot.list_response,
          [&, s = &slot](grpc::Status status) { on_done(*s, status); });
    }
  };
  const absl::Time t0 = absl::Now();
  for (Slot& slot : slots) start(slot);
  all_retired.WaitForNotification();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  std::lock_guard<std::mutex> lock(mu);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(
        latencies_ms.size() - 1,
        static_cast<size_t>(p * static_cast<double>(latencies_ms.size())))];
  };
  const int n = static_cast<int>(latencies_ms.size());
  std::printf("%s %d %d %d %.3f %.0f %.3f %.3f\n", method.c_str(), n, n - errors.load(),
              errors.load(), seconds, n / seconds, pct(0.50), pct(0.99));
  return errors.load() > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: rpc_bench echo-server|load [flags]\n";
    return 2;
  }
  const std::string mode = args[1];
  if (mode == "echo-server") return EchoServer();
  if (mode == "load") return Load();
  std::cerr << "rpc_bench: unknown mode " << mode << "\n";
  return 2;
}
