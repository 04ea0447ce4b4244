// The real shadowplane binary's TelemetryService over gRPC (label e2e), on a PostgreSQL cluster of
// the test's own so that it can be restarted mid-stream.
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/forecast.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "store/embedded_postgres.h"
#include "support/child_process.h"
#include "support/geoip_test_database.h"
#include "support/server_client.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;
namespace fs = std::filesystem;

constexpr char kResource[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kInstance[] = "aaaaaaaa-1111-4000-8000-000000000001";

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

// A batch of `n` events numbered from `first` (the number is in bytes_in, so that duplicates and
// losses can be counted exactly).
pb::AccessBatch Batch(const std::string& id, int first, int n, const char* ip = "192.0.2.7") {
  pb::AccessBatch batch;
  batch.set_batch_id(id);
  const absl::Time now = absl::Now();
  for (int i = 0; i < n; ++i) {
    pb::AccessEvent* e = batch.add_events();
    SetTime(now - absl::Seconds(i % 600), e->mutable_time());
    e->set_client_ip(ip);
    e->set_resource_id(kResource);
    e->set_instance_id(kInstance);
    e->set_request_type("GET");
    e->set_bytes_in(first + i);
    e->set_bytes_out(1000);
  }
  return batch;
}

class TelemetryProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-telemetry");
    pg_options_.data_dir = root_ + "/pg";
    pg_options_.settings = {"fsync=off"};
    auto pg = store::EmbeddedPostgres::Start(pg_options_);
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
    auto geoip = testing::BuildGeoIpTestDatabase(root_);
    ASSERT_TRUE(geoip.ok()) << geoip.status();
    std::ofstream(root_ + "/locations.yaml") << R"(
regions:
  - {name: eu-central, latitude: 50.1, longitude: 8.7}
  - {name: us-east, latitude: 39.0, longitude: -77.5}
locations:
  - {name: fra-1, region: eu-central, latitude: 50.1, longitude: 8.7,
     on_demand_price_per_vcpu_hour: 0.04, on_demand_price_per_gib_hour: 0.005,
     capacity_millicores: 4000, capacity_memory_mib: 4096}
networks:
  - {cidr: 10.0.0.0/8, region: us-east}
)";
    StartServer({"--geoip_db=" + *geoip});
    pqxx::connection conn(pg_->url());
    pqxx::work txn(conn);
    txn.exec(absl::StrCat("INSERT INTO resources (id, name, created_at) VALUES ('", kResource,
                          "', 'web', now())"));
    txn.exec(absl::StrCat(
        "INSERT INTO instances (id, resource_id, role, location, capacity_millicores, "
        "memory_mib, capacity_type, read_only, state, created_at, updated_at) VALUES ('",
        kInstance, "', '", kResource,
        "', 'primary', 'fra-1', 1000, 512, 'on_demand', false, 'running', now(), now())"));
    txn.commit();
  }

  void TearDown() override {
    server_.reset();
    if (pg_ != nullptr) (void)pg_->Stop();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void StartServer(std::vector<std::string> extra) {
    port_ = testing::FreePort();
    metrics_port_ = testing::FreePort();
    std::vector<std::string> args = {SHADOWPLANE_BIN,
                                     absl::StrCat("--listen=127.0.0.1:", port_),
                                     absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
                                     "--database_url=" + pg_->url(),
                                     "--locations_file=" + root_ + "/locations.yaml",
                                     "--db_check_interval=200ms",
                                     "--max_batch_events=1000",
                                     "--ingest_queue_records=5000"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = testing::StartServingServer(args, port_);
    ASSERT_NE(server_, nullptr);
    stub_ = pb::TelemetryService::NewStub(testing::ServerClient(port_).channel());
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection conn(pg_->url());
    pqxx::nontransaction txn(conn);
    return txn.exec(sql)[0][0].as<int64_t>();
  }

  std::string root_;
  store::EmbeddedPostgresOptions pg_options_;
  std::unique_ptr<store::EmbeddedPostgres> pg_;
  std::unique_ptr<testing::ChildProcess> server_;
  std::unique_ptr<pb::TelemetryService::Stub> stub_;
  int port_ = 0, metrics_port_ = 0;
};

// A RecordAccess client that resends every batch it has no OK acknowledgement for, on a new
// stream when the old one breaks, as the protocol asks of clients.
class ResendingClient {
 public:
  explicit ResendingClient(pb::TelemetryService::Stub* stub) : stub_(stub) {}

  // Sends every batch until each is acknowledged OK; returns how many rounds (streams) it took.
  int SendAll(const std::vector<pb::AccessBatch>& batches, absl::Duration timeout,
              const std::function<void(int acked)>& progress) {
    std::map<std::string, const pb::AccessBatch*> unacked;
    for (const auto& b : batches) unacked[b.batch_id()] = &b;
    const absl::Time deadline = absl::Now() + timeout;
    int streams = 0;
    int acked = 0;
    while (!unacked.empty() && absl::Now() < deadline) {
      ++streams;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      auto stream = stub_->RecordAccess(&context);
      std::thread writer([&] {
        for (const auto& [id, batch] : unacked) {
          if (!stream->Write(*batch)) break;
        }
        stream->WritesDone();
      });
      const size_t sent = unacked.size();
      size_t answered = 0;
      pb::BatchAck ack;
      std::vector<std::string> done;
      while (answered < sent && stream->Read(&ack)) {
        ++answered;
        if (ack.code() == 0) {
          done.push_back(ack.batch_id());
          ++acked;
          progress(acked);
        } else {
          retried_codes.push_back(ack.code());
          absl::SleepFor(absl::Milliseconds(100));
        }
      }
      writer.join();
      stream->Finish();
      for (const auto& id : done) unacked.erase(id);
    }
    return unacked.empty() ? streams : -1;
  }

  std::vector<int> retried_codes;

 private:
  pb::TelemetryService::Stub* const stub_;
};

TEST_F(TelemetryProcessTest, ADatabaseRestartMidStreamLosesAndDuplicatesNothing) {
  std::vector<pb::AccessBatch> batches;
  for (int b = 0; b < 60; ++b) batches.push_back(Batch(absl::StrCat("restart-", b), b * 500, 500));
  ResendingClient client(stub_.get());
  std::atomic<bool> restart{false}, stopped{false};
  std::thread restarter([&] {
    while (!restart.load()) absl::SleepFor(absl::Milliseconds(5));
    const absl::Status stop = pg_->Stop();
    stopped = true;
    ASSERT_TRUE(stop.ok()) << stop;
    absl::SleepFor(absl::Seconds(2));
    auto pg = store::EmbeddedPostgres::Start(pg_options_);
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
  });
  const int streams = client.SendAll(batches, absl::Seconds(120), [&](int acked) {
    if (acked != 10) return;  // a sixth of the way in
    restart.store(true);
    // Reading no further acknowledgements until the database is down holds the stream's writer
    // at its in-flight cap, so that the batches after it meet the stopped database however fast
    // the ones before were committed.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!stopped.load() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  });
  restarter.join();
  ASSERT_GE(streams, 1) << "not every batch was acknowledged\n" << server_->Output();
  EXPECT_TRUE(server_->WaitForOutput("telemetry commit failed; retrying", absl::Seconds(1)))
      << "the restart happened mid-stream";
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 60 * 500);
  EXPECT_EQ(Count("SELECT count(DISTINCT bytes_in) FROM client_access_log"), 60 * 500)
      << "no event stored twice";
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), 60 * 500);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest_batches"), 60);
}

TEST_F(TelemetryProcessTest, UnaryStreamDemandAndBadInputOverGrpc) {
  // Unary: committed, then a retry is a duplicate.
  pb::AccessBatch batch = Batch("unary-1", 0, 100);
  *batch.add_events() = Batch("x", 100, 1, "10.9.8.7").events(0);  // CIDR -> us-east
  pb::BatchAck ack;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->RecordAccessBatch(&context, batch, &ack).ok());
    EXPECT_EQ(ack.events_accepted(), 101);
    EXPECT_FALSE(ack.duplicate());
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->RecordAccessBatch(&context, batch, &ack).ok());
    EXPECT_TRUE(ack.duplicate());
    EXPECT_EQ(ack.events_accepted(), 101);
  }
  // Unary bad input: INVALID_ARGUMENT naming the problem.
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->RecordAccessBatch(&context, Batch("big", 0, 1001), &ack);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(status.error_message(), "max_batch_events"))
        << status.error_message();
    grpc::ClientContext context2;
    status = stub_->RecordAccessBatch(&context2, Batch("", 0, 1), &ack);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(status.error_message(), "batch_id"));
  }
  // Stream: a malformed batch is answered with INVALID_ARGUMENT and the stream goes on.
  {
    grpc::ClientContext context;
    auto stream = stub_->RecordAccess(&context);
    ASSERT_TRUE(stream->Write(Batch("big-in-stream", 0, 1001)));
    ASSERT_TRUE(stream->Write(Batch("stream-ok", 5000, 10)));
    stream->WritesDone();
    std::map<std::string, pb::BatchAck> acks;
    while (stream->Read(&ack)) acks[ack.batch_id()] = ack;
    ASSERT_TRUE(stream->Finish().ok());
    EXPECT_EQ(acks["big-in-stream"].code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(acks["stream-ok"].code(), 0);
    EXPECT_EQ(acks["stream-ok"].events_accepted(), 10);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 111);

  // GetDemand and shadowctl demand: regions from GeoIP (192.0.2.7) and CIDR (10.9.8.7).
  pb::GetDemandRequest request;
  request.set_resource_id(kResource);
  pb::GetDemandResponse demand;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetDemand(&context, request, &demand).ok());
  }
  int64_t total = 0;
  for (const auto& p : demand.total().points()) total += p.requests();
  EXPECT_EQ(total, 111);
  ASSERT_EQ(demand.regions_size(), 2);
  EXPECT_EQ(demand.regions(0).origin_region(), "eu-central");
  EXPECT_EQ(demand.regions(1).origin_region(), "us-east");
  {
    // An unknown granularity on the wire is refused by the handler, naming the field.
    pb::GetDemandRequest weekly = request;
    weekly.set_granularity(static_cast<pb::Granularity>(7));
    grpc::ClientContext context;
    pb::GetDemandResponse ignored;
    const grpc::Status refused = stub_->GetDemand(&context, weekly, &ignored);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(refused.error_message(), "granularity"))
        << refused.error_message();
  }
  auto table = testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                         "--insecure", "demand", kResource});
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_TRUE(absl::StrContains(table.output, "EU-CENTRAL")) << table.output;
  EXPECT_TRUE(absl::StrContains(table.output, "US-EAST")) << table.output;
  auto missing =
      testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                "--insecure", "demand", "cccccccc-0000-4000-8000-000000000003"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.output, "NOT_FOUND")) << missing.output;
  auto bad = testing::RunToCompletion({SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_),
                                       "--insecure", "demand", kResource, "--granularity=week"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;

  // Metrics: accepted and rejected events, batch outcomes, commit latency, queue.
  std::string metrics;
  for (int i = 0; i < 20; ++i) {
    metrics =
        testing::RunToCompletion(
            {"/usr/bin/curl", "-sf", absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics")})
            .output;
    if (absl::StrContains(metrics, "shadowplane_ingest_events_total{result=\"accepted\"} 111")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  for (const char* expected :
       {"shadowplane_ingest_events_total{result=\"accepted\"} 111",
        "shadowplane_ingest_batches_total{result=\"duplicate\"} 1",
        "shadowplane_ingest_batch_commit_seconds_count", "shadowplane_ingest_queue_records 0",
        "shadowplane_ingest_queue_capacity_records 5000", "shadowplane_ingest_rows_per_second",
        "shadowplane_access_log_partitions"}) {
    EXPECT_TRUE(absl::StrContains(metrics, expected)) << expected << "\n" << metrics;
  }
}

TEST_F(TelemetryProcessTest, AFullQueueAnswersResourceExhaustedWithARetryHint) {
  server_.reset();
  StartServer({"--ingest_queue_records=1000", "--ingest_retry_after=300ms"});
  pqxx::connection blocker(pg_->url());
  pqxx::work hold(blocker);
  hold.exec("LOCK TABLE ingest_batches IN ACCESS EXCLUSIVE MODE");
  absl::Mutex mu;
  int ok = 0, exhausted = 0;
  std::string retry_hint;
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t) {
    senders.emplace_back([&, t] {
      pb::BatchAck ack;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      grpc::Status status =
          stub_->RecordAccessBatch(&context, Batch(absl::StrCat("full-", t), t * 1000, 1000), &ack);
      absl::MutexLock lock(&mu);
      if (status.ok()) {
        ++ok;
      } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
        auto hint = context.GetServerTrailingMetadata().find("retry-after-ms");
        if (hint != context.GetServerTrailingMetadata().end()) {
          retry_hint = std::string(hint->second.data(), hint->second.size());
        }
      }
    });
    absl::SleepFor(absl::Milliseconds(100));
  }
  // The ones that could not queue were answered at once, while the table is still locked.
  absl::SleepFor(absl::Seconds(1));
  {
    absl::MutexLock lock(&mu);
    EXPECT_GE(exhausted, 3) << "one batch in the writer, one queued, the rest refused";
    EXPECT_EQ(ok, 0);
    EXPECT_EQ(retry_hint, "300");
  }
  hold.abort();
  for (auto& t : senders) t.join();
  EXPECT_EQ(ok + exhausted, 6);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), ok * 1000)
      << "refused batches left nothing behind";
}

// Requests per hour the test records: eu-central follows the time of day, us-east the day of week.
int EuRequests(int64_t unix_hour) {
  return static_cast<int>(std::lround(20 + 15 * std::sin(2 * M_PI * (unix_hour % 24) / 24.0)));
}
int UsRequests(int64_t unix_hour) { return (unix_hour / 24 + 4) % 7 >= 5 ? 2 : 10; }

TEST_F(TelemetryProcessTest, RecordedAccessesAreForecastByTheRefresherAndPredict) {
  server_.reset();
  StartServer({"--forecast_interval=1s", "--max_horizon_hours=72"});
  // Three weeks of hourly traffic up to the last full hour, over RecordAccessBatch.
  const int64_t now_hour = absl::ToUnixSeconds(absl::Now()) / 3600;
  std::vector<pb::AccessBatch> batches(1);
  int events = 0;
  for (int64_t hour = now_hour - 21 * 24; hour < now_hour; ++hour) {
    for (const auto& [region, count] : {std::pair<const char*, int>{"eu-central", EuRequests(hour)},
                                        {"us-east", UsRequests(hour)}}) {
      for (int i = 0; i < count; ++i) {
        if (batches.back().events_size() == 1000) batches.emplace_back();
        pb::AccessEvent* e = batches.back().add_events();
        SetTime(absl::FromUnixSeconds(hour * 3600 + 60 * i), e->mutable_time());
        e->set_client_ip("192.0.2.7");
        e->set_resource_id(kResource);
        e->set_request_type("GET");
        e->set_origin_region(region);
        ++events;
      }
    }
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    batches[b].set_batch_id(absl::StrCat("history-", b));
    pb::BatchAck ack;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    ASSERT_TRUE(stub_->RecordAccessBatch(&context, batches[b], &ack).ok());
    ASSERT_EQ(ack.events_accepted() + ack.events_demand_only(), batches[b].events_size())
        << ack.DebugString();
  }
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), events);

  // The refresher finds the resource due and stores its forecast: both regions and the total.
  for (int i = 0; i < 300 && Count("SELECT count(*) FROM forecasts") < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(Count("SELECT count(*) FROM forecasts"), 3) << server_->Output();
  EXPECT_EQ(Count("SELECT count(*) FROM forecasts WHERE 'NaN' = ANY(horizon_values)"), 0);

  auto forecast = pb::ForecastService::NewStub(testing::ServerClient(port_).channel());
  auto predict = [&](std::optional<int> horizon, bool refresh, pb::PredictResponse* response) {
    pb::PredictRequest request;
    request.set_resource_id(kResource);
    if (horizon.has_value()) request.set_horizon_hours(*horizon);
    request.set_refresh(refresh);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return forecast->Predict(&context, request, response);
  };
  pb::PredictResponse stored;
  ASSERT_TRUE(predict(std::nullopt, false, &stored).ok());
  EXPECT_FALSE(stored.computed_now()) << "the refresher's forecast is served";
  EXPECT_EQ(stored.horizon_hours(), 48);
  EXPECT_EQ(stored.first_hour().seconds(), now_hour * 3600);
  ASSERT_EQ(stored.regions_size(), 2);
  EXPECT_EQ(stored.total().origin_region(), "total");
  EXPECT_GT(stored.total().forecast_id(), 0);
  // Noise-free patterns: the forecast follows them closely, for each region and the total.
  for (const pb::SeriesForecast& s : {stored.regions(0), stored.regions(1), stored.total()}) {
    ASSERT_EQ(s.values_size(), 48) << s.origin_region();
    EXPECT_EQ(s.history_hours(), 21 * 24) << s.origin_region();
    EXPECT_TRUE(s.fallback_reason().empty()) << s.fallback_reason();
    double error = 0;
    for (int h = 0; h < 48; ++h) {
      const int64_t hour = now_hour + h;
      const double actual = s.origin_region() == "eu-central" ? EuRequests(hour)
                            : s.origin_region() == "us-east"  ? UsRequests(hour)
                                                              : EuRequests(hour) + UsRequests(hour);
      error += std::abs(s.values(h) - actual) / 48;
    }
    EXPECT_LT(error, 1.5) << s.origin_region() << " " << s.model();
  }

  pb::PredictResponse fresh;
  ASSERT_TRUE(predict(72, true, &fresh).ok());
  EXPECT_TRUE(fresh.computed_now());
  EXPECT_EQ(fresh.total().values_size(), 72);
  EXPECT_GT(fresh.total().forecast_id(), stored.total().forecast_id());
  EXPECT_EQ(Count("SELECT count(*) FROM forecasts"), 6);

  // Bad input.
  pb::PredictResponse unused;
  for (int bad : {0, -3, 73}) {
    const grpc::Status status = predict(bad, false, &unused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_TRUE(absl::StrContains(status.error_message(), "horizon_hours"))
        << status.error_message();
  }
  {
    pb::PredictRequest request;
    request.set_resource_id("cccccccc-0000-4000-8000-000000000003");
    grpc::ClientContext context;
    EXPECT_EQ(forecast->Predict(&context, request, &unused).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    pb::PredictRequest request;
    request.set_resource_id("web");
    grpc::ClientContext context;
    const grpc::Status status = forecast->Predict(&context, request, &unused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(status.error_message(), "resource_id")) << status.error_message();
  }

  // Quantiles and joint sample paths; the backtest behind them.
  {
    pb::PredictRequest request;
    request.set_resource_id(kResource);
    request.add_quantiles(0.05);
    request.add_quantiles(0.95);
    request.set_sample_paths(10);
    request.set_refresh(true);  // the paths of a forecast computed for this very call
    pb::PredictResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(forecast->Predict(&context, request, &response).ok());
    ASSERT_EQ(response.total().quantiles_size(), 2);
    EXPECT_EQ(response.total().quantiles(0).level(), 0.05);
    for (int h = 0; h < 48; ++h) {
      EXPECT_LE(response.total().quantiles(0).values(h), response.total().quantiles(1).values(h));
    }
    EXPECT_TRUE(response.computed_now());
    EXPECT_EQ(response.sample_paths(), 10);
    EXPECT_EQ(response.paths_hours(), 48);
    EXPECT_EQ(response.total().sample_paths_size(), 10 * response.paths_hours());
    EXPECT_EQ(response.regions(0).sample_paths_size(), 10 * response.paths_hours());
    EXPECT_GT(response.total().backtest_origins(), 0);
    request.set_sample_paths(5000);
    grpc::ClientContext too_many;
    EXPECT_EQ(forecast->Predict(&too_many, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    request.set_sample_paths(0);
    request.add_quantiles(1.5);
    grpc::ClientContext bad_quantile;
    EXPECT_EQ(forecast->Predict(&bad_quantile, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    pb::BacktestRequest backtest;
    backtest.set_resource_id(kResource);
    pb::BacktestResponse accuracy;
    grpc::ClientContext backtest_context;
    ASSERT_TRUE(forecast->Backtest(&backtest_context, backtest, &accuracy).ok());
    ASSERT_EQ(accuracy.series_size(), 3);
    EXPECT_GE(accuracy.series(0).candidates_size(), 3);
  }

  // shadowctl predict: the models, then hours by series.
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto table = testing::RunToCompletion(
      {SHADOWCTL_BIN, server, "--insecure", "predict", kResource, "--horizon=24"});
  EXPECT_EQ(table.exit_code, 0) << table.output;
  for (const char* expected : {"EU-CENTRAL", "US-EAST", "TOTAL", "MODEL", "eu-central"}) {
    EXPECT_TRUE(absl::StrContains(table.output, expected)) << expected << "\n" << table.output;
  }
  auto backtest =
      testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "backtest", kResource});
  EXPECT_EQ(backtest.exit_code, 0) << backtest.output;
  for (const char* expected : {"seasonal_naive_24", "double_seasonal_24_168", "BACKTEST SMAPE"}) {
    EXPECT_TRUE(absl::StrContains(backtest.output, expected)) << expected << "\n"
                                                              << backtest.output;
  }
  auto too_far = testing::RunToCompletion(
      {SHADOWCTL_BIN, server, "--insecure", "predict", kResource, "--horizon=100"});
  EXPECT_EQ(too_far.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(too_far.output, "INVALID_ARGUMENT")) << too_far.output;

  // shadowctl events: a campaign doubling eu-central's demand in hours 2..4 from now, which
  // Predict applies; bad registrations name their field.
  auto rfc3339 = [](int64_t hour) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(hour * 3600),
                            absl::UTCTimeZone());
  };
  auto register_event = [&](const std::string& start, const std::string& end,
                            const std::string& region, const std::string& uplift) {
    return testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "events", "register",
                                     "--kind=campaign", "--event_name=launch",
                                     absl::StrCat("--resources=", kResource), "--regions=" + region,
                                     "--start=" + start, "--end=" + end, "--uplift=" + uplift});
  };
  auto registered = register_event(rfc3339(now_hour + 2), rfc3339(now_hour + 5), "eu-central", "2");
  EXPECT_EQ(registered.exit_code, 0) << registered.output;
  EXPECT_TRUE(absl::StrContains(registered.output, "x2.00")) << registered.output;
  auto backwards = register_event(rfc3339(now_hour + 5), rfc3339(now_hour + 2), "eu-central", "2");
  EXPECT_EQ(backwards.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(backwards.output, "INVALID_ARGUMENT: end_time"))
      << backwards.output;
  auto nowhere = register_event(rfc3339(now_hour + 2), rfc3339(now_hour + 5), "mars", "2");
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(nowhere.output, "NOT_FOUND: regions[0]")) << nowhere.output;
  auto negative = register_event(rfc3339(now_hour + 2), rfc3339(now_hour + 5), "eu-central", "-1");
  EXPECT_EQ(negative.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(negative.output, "INVALID_ARGUMENT: expected_uplift"))
      << negative.output;
  auto listed = testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "events", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "launch")) << listed.output;
  {
    pb::PredictResponse response;
    ASSERT_TRUE(predict(24, false, &response).ok());
    ASSERT_EQ(response.events_size(), 1);
    EXPECT_EQ(response.events(0).uplift_source(), "given");
    const pb::SeriesForecast& eu = response.regions(0);
    ASSERT_EQ(eu.origin_region(), "eu-central");
    ASSERT_EQ(eu.baseline_values_size(), 24);
    for (int h = 0; h < 24; ++h) {
      EXPECT_DOUBLE_EQ(eu.values(h), (h >= 2 && h < 5 ? 2 : 1) * eu.baseline_values(h)) << h;
    }
    EXPECT_EQ(response.regions(1).baseline_values_size(), 0) << "us-east is not affected";
  }
  auto with_event = testing::RunToCompletion(
      {SHADOWCTL_BIN, server, "--insecure", "predict", kResource, "--horizon=24"});
  EXPECT_TRUE(absl::StrContains(with_event.output, "known events")) << with_event.output;

  const std::string metrics =
      testing::RunToCompletion(
          {"/usr/bin/curl", "-sf", absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics")})
          .output;
  for (const char* expected :
       {"shadowplane_forecast_predictions_total{source=\"stored\"}",
        "shadowplane_forecast_predictions_total{source=\"computed\"}",
        "shadowplane_forecast_refreshes_total{result=\"ok\"} 1",
        "shadowplane_forecast_refresh_leader 1", "shadowplane_forecast_fit_seconds_count",
        "shadowplane_events_registered_total{uplift=\"given\"} 1"}) {
    EXPECT_TRUE(absl::StrContains(metrics, expected)) << expected << "\n" << metrics;
  }
}

}  // namespace
}  // namespace shadowplane
