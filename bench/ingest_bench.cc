// The ingest benchmark's generator and client (bench/run_ingest_bench.sh runs it).
//
//   ingest_bench setup  --resources=N                 SQL: the resources and their instances
//   ingest_bench config                               YAML: regions, a location, client networks
//   ingest_bench csv    --events=N --seed=S --end=T   the events as CSV for psql \copy
//   ingest_bench send   --events=N --seed=S --end=T --server=HOST:PORT [--batch=B --streams=K]
//
// The same seed and end time give the same events in `csv` and `send`: 8 origin regions on five
// continents with uneven weights, 50,000 clients (70% IPv4, 30% IPv6, 10% with a client id) whose
// activity is skewed, each using mostly one of 50 resources of skewed popularity (85% of its
// requests), requests spread evenly over the --span (1 hour) before the end time in time order,
// as a busy service's live traffic arrives, GET/PUT/HEAD, sizes and latencies of plausible spread.
// Client addresses lie in each region's networks (10.R.0.0/16, 2001:db8:R::/48), which `config`
// declares, so the server resolves the same origin region the CSV carries.
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench_transport.h"
#include "common/transport_security.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

ABSL_FLAG(int, events, 1'000'000, "events to generate");
ABSL_FLAG(int, seed, 1, "generator seed");
ABSL_FLAG(int64_t, end, 0, "Unix seconds of the last event (default: now)");
ABSL_FLAG(int, resources, 50, "resources the events are spread over");
ABSL_FLAG(absl::Duration, span, absl::Hours(1), "time the events are spread over, ending at --end");
ABSL_FLAG(std::string, server, "127.0.0.1:50051", "send: shadowplane's gRPC address");
ABSL_FLAG(int, batch, 1000, "send: events per batch");
ABSL_FLAG(int, streams, 2, "send: RecordAccess streams at once");
ABSL_FLAG(std::string, tls_dir, "",
          "send: TLS checked against the CA deploy/local-ca.sh made there (ca.pem); empty: "
          "plaintext");
ABSL_FLAG(std::string, token, "", "send: sent as `authorization: Bearer` on every stream");

namespace {

namespace pb = shadowplane::v1;

struct Region {
  const char* name;
  double latitude, longitude, weight;
};
constexpr Region kRegions[] = {
    {"us-east", 39.0, -77.5, 0.24},      {"us-west", 45.6, -121.2, 0.12},
    {"eu-central", 50.1, 8.7, 0.20},     {"eu-west", 53.3, -6.3, 0.10},
    {"ap-southeast", 1.35, 103.8, 0.14}, {"ap-northeast", 35.7, 139.7, 0.10},
    {"ap-south", 19.1, 72.9, 0.06},      {"sa-east", -23.5, -46.6, 0.04}};
constexpr int kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);
constexpr int kClients = 50'000;
constexpr const char* kTypes[] = {"GET", "PUT", "HEAD"};

std::string ResourceId(int i) { return absl::StrFormat("00000000-0000-4000-8000-%012d", i); }
std::string InstanceId(int i) { return absl::StrFormat("00000000-0000-4000-9000-%012d", i); }

struct Event {
  int64_t ts_us;
  std::string ip;
  int resource;
  int type;
  int64_t bytes_in, bytes_out, memory;
  double latency, cpu;
  std::string client_id;
  int region;
};

// Calls `fn(const Event&)` for every event, in time order.
template <typename Fn>
void Generate(Fn fn) {
  const int n = absl::GetFlag(FLAGS_events);
  const int64_t end_s =
      absl::GetFlag(FLAGS_end) > 0 ? absl::GetFlag(FLAGS_end) : absl::ToUnixSeconds(absl::Now());
  const int64_t end_us = end_s * 1'000'000,
                span_us = absl::ToInt64Microseconds(absl::GetFlag(FLAGS_span));
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  // Clients: a home region, a family, an address in that region's network, maybe an id.
  std::vector<double> weights;
  for (const Region& r : kRegions) weights.push_back(r.weight);
  std::discrete_distribution<int> region_of(weights.begin(), weights.end());
  std::vector<std::string> ips(kClients), ids(kClients);
  std::vector<int> regions(kClients), homes(kClients);
  const int resources = absl::GetFlag(FLAGS_resources);
  std::uniform_real_distribution<double> u(0, 1);
  for (int c = 0; c < kClients; ++c) {
    const int r = region_of(rng);
    regions[c] = r;
    if (u(rng) < 0.7) {
      ips[c] = absl::StrCat("10.", r + 1, ".", c / 250, ".", c % 250 + 1);
    } else {
      ips[c] = absl::StrFormat("2001:db8:%x::%x:%x", r + 1, c >> 12, c & 0xfff);
    }
    if (u(rng) < 0.1) ids[c] = absl::StrCat("user-", c);
    homes[c] = static_cast<int>(resources * std::pow(u(rng), 1.5));  // popular services
  }
  std::lognormal_distribution<double> out_size(8.5, 1.2), latency(3.0, 0.7);
  Event e;
  for (int i = 0; i < n; ++i) {
    const int c = static_cast<int>(kClients * std::pow(u(rng), 2.0));  // skewed activity
    e.ts_us = end_us - span_us + span_us * i / n;
    e.ip = ips[c];
    e.client_id = ids[c];
    e.region = regions[c];
    // Mostly the client's own service, sometimes another.
    e.resource = u(rng) < 0.85 ? homes[c] : static_cast<int>(resources * std::pow(u(rng), 1.5));
    const double t = u(rng);
    e.type = t < 0.8 ? 0 : t < 0.92 ? 1 : 2;
    e.bytes_in = 200 + static_cast<int64_t>(u(rng) * 1800) + (e.type == 1 ? 20000 : 0);
    e.bytes_out = e.type == 2 ? 0 : static_cast<int64_t>(out_size(rng));
    e.latency = std::round(latency(rng) * 100) / 100;
    e.cpu = std::round((0.1 + u(rng) * 5) * 1000) / 1000;
    e.memory = 4096 + static_cast<int64_t>(u(rng) * 1'000'000);
    fn(e);
  }
}

int Setup() {
  const int n = absl::GetFlag(FLAGS_resources);
  std::cout << "BEGIN;\nINSERT INTO resources (id, name, created_at) VALUES\n";
  for (int i = 0; i < n; ++i) {
    std::cout << absl::StrFormat("('%s', 'bench-%d', now())%s\n", ResourceId(i), i,
                                 i + 1 < n ? "," : ";");
  }
  std::cout << "INSERT INTO instances (id, resource_id, role, location, capacity_millicores, "
               "memory_mib, capacity_type, read_only, state, created_at, updated_at) VALUES\n";
  for (int i = 0; i < n; ++i) {
    std::cout << absl::StrFormat(
        "('%s', '%s', 'primary', 'bench-1', 1000, 512, 'on_demand', false, 'running', now(), "
        "now())%s\n",
        InstanceId(i), ResourceId(i), i + 1 < n ? "," : ";");
  }
  std::cout << "COMMIT;\n";
  return 0;
}

int Config() {
  std::cout << "regions:\n";
  for (const Region& r : kRegions) {
    std::cout << absl::StrFormat("  - {name: %s, latitude: %.2f, longitude: %.2f}\n", r.name,
                                 r.latitude, r.longitude);
  }
  std::cout << "locations:\n  - {name: bench-1, region: us-east, latitude: 39.0, longitude: "
               "-77.5, on_demand_price_per_vcpu_hour: 0.04, on_demand_price_per_gib_hour: 0.005, "
               "capacity_millicores: 100000, capacity_memory_mib: 100000}\nnetworks:\n";
  for (int r = 0; r < kRegionCount; ++r) {
    std::cout << absl::StrFormat("  - {cidr: 10.%d.0.0/16, region: %s}\n", r + 1, kRegions[r].name);
    std::cout << absl::StrFormat("  - {cidr: \"2001:db8:%x::/48\", region: %s}\n", r + 1,
                                 kRegions[r].name);
  }
  return 0;
}

int Csv() {
  std::string line;
  Generate([&](const Event& e) {
    const absl::Time t = absl::FromUnixMicros(e.ts_us);
    line =
        absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone()), ",", e.ip,
                     ",", ResourceId(e.resource), ",", InstanceId(e.resource), ",", kTypes[e.type],
                     ",", e.cpu, ",", e.memory, ",", e.bytes_in, ",", e.bytes_out, ",", e.latency,
                     ",", kRegions[e.region].name, ",", e.client_id, "\n");
    fwrite(line.data(), 1, line.size(), stdout);
  });
  return 0;
}

// One RecordAccess stream sending its batches, resending those refused (queue full) after the
// server's hint, until every one is acknowledged.
class StreamSender {
 public:
  StreamSender(pb::TelemetryService::Stub* stub, std::vector<pb::AccessBatch*> batches)
      : stub_(stub), pending_(batches.begin(), batches.end()), total_(batches.size()) {}

  void Run() {
    grpc::ClientContext context;
    if (const std::string token = absl::GetFlag(FLAGS_token); !token.empty()) {
      context.AddMetadata("authorization", "Bearer " + token);
    }
    auto stream = stub_->RecordAccess(&context);
    std::map<std::string, pb::AccessBatch*> by_id;
    for (auto* b : pending_) by_id[b->batch_id()] = b;
    std::thread reader([&] {
      pb::BatchAck ack;
      while (acked_ < total_ && stream->Read(&ack)) {
        std::lock_guard<std::mutex> lock(mu_);
        if (ack.code() == 0) {
          ++acked_;
          accepted += ack.events_accepted();
        } else {
          ++refused;
          resend_at_.push_back(
              {absl::Now() + absl::Milliseconds(ack.retry_after().seconds() * 1000 +
                                                ack.retry_after().nanos() / 1'000'000),
               by_id[ack.batch_id()]});
        }
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cv_.notify_all();
    });
    for (;;) {
      pb::AccessBatch* next = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(20), [&] {
          return done_ || acked_ == total_ || !pending_.empty() ||
                 (!resend_at_.empty() && resend_at_.front().first <= absl::Now());
        });
        if (done_ || acked_ == total_) break;
        if (!pending_.empty()) {
          next = pending_.front();
          pending_.pop_front();
        } else if (!resend_at_.empty() && resend_at_.front().first <= absl::Now()) {
          next = resend_at_.front().second;
          resend_at_.pop_front();
        }
      }
      if (next != nullptr && !stream->Write(*next)) break;
    }
    stream->WritesDone();
    reader.join();
    grpc::Status status = stream->Finish();
    if (!status.ok()) std::cerr << "stream failed: " << status.error_message() << "\n";
  }

  int64_t accepted = 0;
  int64_t refused = 0;
  size_t acked() const { return acked_; }

 private:
  pb::TelemetryService::Stub* const stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<pb::AccessBatch*> pending_;
  std::deque<std::pair<absl::Time, pb::AccessBatch*>> resend_at_;
  const size_t total_;
  size_t acked_ = 0;
  bool done_ = false;
};

int Send() {
  const int batch_size = absl::GetFlag(FLAGS_batch);
  std::vector<std::unique_ptr<pb::AccessBatch>> batches;
  Generate([&](const Event& e) {
    if (batches.empty() || batches.back()->events_size() == batch_size) {
      batches.push_back(std::make_unique<pb::AccessBatch>());
      batches.back()->set_batch_id(
          absl::StrCat("bench-", absl::GetFlag(FLAGS_seed), "-", batches.size()));
      batches.back()->mutable_events()->Reserve(batch_size);
    }
    pb::AccessEvent* out = batches.back()->add_events();
    out->mutable_time()->set_seconds(e.ts_us / 1'000'000);
    out->mutable_time()->set_nanos(static_cast<int32_t>(e.ts_us % 1'000'000 * 1000));
    out->set_client_ip(e.ip);
    out->set_resource_id(ResourceId(e.resource));
    out->set_instance_id(InstanceId(e.resource));
    out->set_request_type(kTypes[e.type]);
    out->set_bytes_in(e.bytes_in);
    out->set_bytes_out(e.bytes_out);
    out->set_latency_ms(e.latency);
    out->set_cpu_millis(e.cpu);
    out->set_memory_bytes(e.memory);
    out->set_client_id(e.client_id);
  });
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  auto transport = shadowplane::bench::ClientTransport(absl::GetFlag(FLAGS_tls_dir));
  if (!transport.ok()) {
    std::cerr << "ingest_bench: " << transport.status().message() << "\n";
    return 1;
  }
  auto channel = (*transport)
                     ->Channel(absl::GetFlag(FLAGS_server),
                               std::string(shadowplane::kControlPlaneIdentity), args);
  auto stub = pb::TelemetryService::NewStub(channel);
  const int streams = absl::GetFlag(FLAGS_streams);
  std::vector<std::vector<pb::AccessBatch*>> shares(streams);
  for (size_t i = 0; i < batches.size(); ++i) shares[i % streams].push_back(batches[i].get());
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
    std::cerr << "cannot connect to " << absl::GetFlag(FLAGS_server) << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<StreamSender>> senders;
  for (auto& share : shares) senders.push_back(std::make_unique<StreamSender>(stub.get(), share));
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (auto& s : senders) threads.emplace_back([&s] { s->Run(); });
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t accepted = 0, refused = 0;
  size_t acked = 0;
  for (auto& s : senders) {
    accepted += s->accepted;
    refused += s->refused;
    acked += s->acked();
  }
  // One line for the script: seconds, events accepted, batches acknowledged, refusals (queue full).
  std::cout << absl::StrFormat("%.3f %d %d %d\n", seconds, accepted, acked, refused);
  return acked == batches.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "setup") return Setup();
  if (mode == "config") return Config();
  if (mode == "csv") return Csv();
  if (mode == "send") return Send();
  std::cerr << "usage: ingest_bench setup|config|csv|send [flags]\n";
  return 2;
}
