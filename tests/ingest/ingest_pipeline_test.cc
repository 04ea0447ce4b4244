// The ingest path (validation, background writer, COPY, rollups, retention, affinity, demand
// reads) against a real PostgreSQL (label pg), on a fake clock.
#include "ingest/ingest_pipeline.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "geo/geoip_database.h"
#include "gtest/gtest.h"
#include "ingest/affinity_tracker.h"
#include "ingest/demand_reader.h"
#include "ingest/event_validator.h"
#include "ingest/hyperloglog.h"
#include "ingest/ingest_writer.h"
#include "ingest/origin_lookup.h"
#include "ingest/resource_directory.h"
#include "ingest/retention_keeper.h"
#include "store/access_log_store.h"
#include "store/connection_pool.h"
#include "store/lease_store.h"
#include "store/telemetry_repository.h"
#include "support/child_process.h"
#include "support/geoip_test_database.h"
#include "support/test_database.h"

namespace shadowplane::ingest {
namespace {

namespace fs = std::filesystem;

constexpr char kResourceA[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kResourceB[] = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr char kPrimaryA[] = "aaaaaaaa-1111-4000-8000-000000000001";
constexpr char kShadowA[] = "aaaaaaaa-2222-4000-8000-000000000001";
constexpr char kPrimaryB[] = "bbbbbbbb-1111-4000-8000-000000000002";

const absl::Time kNow = absl::FromUnixSeconds(1796558400);  // 2026-12-06T12:00:00Z

AccessEvent Event(absl::Time t, const std::string& ip, const std::string& resource = kResourceA,
                  const std::string& instance = kPrimaryA) {
  AccessEvent e;
  e.time = t;
  e.client_ip = ip;
  e.resource_id = resource;
  e.instance_id = instance;
  e.request_type = "GET";
  e.bytes_in = 100;
  e.bytes_out = 2000;
  e.latency_ms = 12.5;
  e.cpu_millis = 1.5;
  e.memory_bytes = 4096;
  return e;
}

class IngestTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    pqxx::connection conn(db_->url());
    pqxx::work txn(conn);
    txn.exec(
        "INSERT INTO regions (name, latitude, longitude, updated_at) VALUES "
        "('eu-central', 50, 8, now()), ('us-east', 39, -77, now()), "
        "('ap-southeast', 1, 103, now())");
    txn.exec(
        "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
        "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, capacity_millicores, "
        "capacity_memory_mib, updated_at) VALUES ('fra-1', 'eu-central', 50, 8, '', 0.04, 0.005, "
        "8000, 16384, now())");
    txn.exec(absl::StrCat("INSERT INTO resources (id, name, created_at) VALUES ('", kResourceA,
                          "', 'a', now()), ('", kResourceB, "', 'b', now())"));
    for (const auto& [id, resource, role] :
         {std::tuple{kPrimaryA, kResourceA, "primary"}, std::tuple{kShadowA, kResourceA, "shadow"},
          std::tuple{kPrimaryB, kResourceB, "primary"}}) {
      txn.exec(absl::StrCat(
          "INSERT INTO instances (id, resource_id, role, location, capacity_millicores, "
          "memory_mib, capacity_type, read_only, state, created_at, updated_at) VALUES ('",
          id, "', '", resource, "', '", role, "', 'fra-1', 1000, 512, 'on_demand', ",
          std::string(role) == "shadow" ? "true" : "false", ", 'running', now(), now())"));
    }
    txn.exec(
        "INSERT INTO geo_networks (network, region, updated_at) VALUES "
        "('10.0.0.0/8', 'us-east', now()), ('10.1.0.0/16', 'ap-southeast', now()), "
        "('192.0.2.128/25', 'us-east', now())");
    txn.commit();
    Build({});
  }

  void TearDown() override {
    pipeline_.reset();
    writer_.reset();
    if (!geo_dir_.empty()) fs::remove_all(geo_dir_);
  }

  // (Re)builds the ingest stack; `geoip` adds the test MaxMind database.
  void Build(IngestWriterOptions writer_options, bool geoip = false,
             ValidationOptions validation = {}) {
    pipeline_.reset();
    writer_.reset();
    affinity_.reset();
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    std::shared_ptr<const geo::GeoIpDatabase> db;
    if (geoip) {
      geo_dir_ = testing::MakeTempDir("sp-ingest-geo");
      auto path = testing::BuildGeoIpTestDatabase(geo_dir_);
      ASSERT_TRUE(path.ok()) << path.status();
      auto opened = geo::GeoIpDatabase::Open(*path);
      ASSERT_TRUE(opened.ok()) << opened.status();
      db = *std::move(opened);
    }
    origins_ = std::make_unique<OriginLookup>(db);
    auto networks = telemetry_->GeoNetworks();
    ASSERT_TRUE(networks.ok()) << networks.status();
    std::vector<geo::CidrRule> rules;
    for (const auto& n : *networks) rules.push_back({n.network, n.region});
    ASSERT_TRUE(origins_->SetNetworks(rules).ok());
    directory_ = std::make_unique<ResourceDirectory>(
        [this]() -> absl::StatusOr<DirectorySnapshot> {
          auto rows = telemetry_->LoadResourceDirectory();
          if (!rows.ok()) return rows.status();
          return SnapshotFromRows(*std::move(rows));
        },
        absl::ZeroDuration());
    ASSERT_TRUE(directory_->Reload().ok());
    validator_ =
        std::make_unique<EventValidator>(&clock_, directory_.get(), origins_.get(), validation);
    store::CommitOptions commit;
    commit.merge_sketches = MergeSerialized;
    store_ = std::make_unique<store::AccessLogStore>(pool_.get(), commit);
    affinity_ = std::make_unique<AffinityTracker>(telemetry_.get(), AffinityOptions{}, nullptr);
    writer_ = std::make_unique<IngestWriter>(store_.get(), &clock_, affinity_.get(), writer_options,
                                             nullptr);
    PipelineOptions pipeline;
    pipeline.max_batch_events = 1000;
    pipeline_ = std::make_unique<IngestPipeline>(validator_.get(), writer_.get(), pipeline);
  }

  // Records `batch` and waits for its acknowledgement.
  absl::StatusOr<BatchAck> Record(const AccessBatch& batch) {
    auto promise = std::make_shared<std::promise<BatchAck>>();
    std::future<BatchAck> ack = promise->get_future();
    absl::Status taken =
        pipeline_->Record(std::make_shared<AccessBatch>(batch),
                          [promise](BatchAck a) { promise->set_value(std::move(a)); });
    if (!taken.ok()) return taken;
    if (ack.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      return absl::DeadlineExceededError("no acknowledgement within 60 s");
    }
    return ack.get();
  }

  // `resource`'s demand over the last day and the current hour, in daily steps.
  absl::StatusOr<Demand> ReadDailyDemand(const std::string& resource) {
    DemandReader reader(telemetry_.get(), &clock_, 1000);
    DemandQuery query;
    query.resource_id = resource;
    query.step = absl::Hours(24);
    query.from = kNow - absl::Hours(24);
    query.to = kNow + absl::Hours(1);
    return reader.Read(query);
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    return txn.exec(sql)[0][0].as<int64_t>();
  }

  FakeClock clock_{kNow};
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<OriginLookup> origins_;
  std::unique_ptr<ResourceDirectory> directory_;
  std::unique_ptr<EventValidator> validator_;
  std::unique_ptr<store::AccessLogStore> store_;
  std::unique_ptr<AffinityTracker> affinity_;
  std::unique_ptr<IngestWriter> writer_;
  std::unique_ptr<IngestPipeline> pipeline_;
  std::string geo_dir_;
};

// The reason's rejection in `ack`, or an empty one.
store::RejectionCount Rejected(const BatchAck& ack, const std::string& reason) {
  for (const auto& r : ack.counts.rejections) {
    if (r.reason == reason) return r;
  }
  return store::RejectionCount();
}

TEST_F(IngestTest, ARetriedBatchIsStoredOnceAndAnsweredTheSame) {
  AccessBatch batch;
  batch.batch_id = "retry-1";
  for (int i = 0; i < 50; ++i) {
    batch.events.push_back(Event(kNow - absl::Minutes(i), absl::StrCat("192.0.2.", i)));
  }
  batch.events.push_back(Event(kNow, "not-an-ip"));
  auto first = Record(batch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->code, absl::StatusCode::kOk) << first->message;
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->counts.events_accepted, 50);
  EXPECT_EQ(Rejected(*first, "malformed_ip").count, 1);

  auto again = Record(batch);  // the client timed out and resends
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->counts.events_accepted, 50) << "the first commit's counts";
  EXPECT_EQ(Rejected(*again, "malformed_ip").count, 1);
  ASSERT_EQ(Rejected(*again, "malformed_ip").first_events.size(), 1);
  EXPECT_EQ(Rejected(*again, "malformed_ip").first_events[0], 50);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 50);
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), 50);

  // Both copies in flight at once: still one commit.
  AccessBatch twice;
  twice.batch_id = "retry-2";
  twice.events.push_back(Event(kNow, "192.0.2.200"));
  std::promise<BatchAck> p1, p2;
  ASSERT_TRUE(
      pipeline_->Record(std::make_shared<AccessBatch>(twice), [&](BatchAck a) { p1.set_value(a); })
          .ok());
  ASSERT_TRUE(
      pipeline_->Record(std::make_shared<AccessBatch>(twice), [&](BatchAck a) { p2.set_value(a); })
          .ok());
  const BatchAck a1 = p1.get_future().get(), a2 = p2.get_future().get();
  EXPECT_EQ(a1.duplicate + a2.duplicate, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 51);
}

TEST_F(IngestTest, EveryBadInputIsRefusedForItsReasonAndTheRestIsStored) {
  Build({}, false, ValidationOptions{});
  AccessBatch batch;
  batch.batch_id = "bad-input";
  auto add = [&](AccessEvent e) { batch.events.push_back(std::move(e)); };
  add(Event(kNow, "192.0.2.1"));                          // 0 ok
  add(Event(kNow, "999.1.1.1"));                          // 1 malformed_ip
  add(Event(kNow + absl::Minutes(6), "192.0.2.1"));       // 2 timestamp_in_future
  add(Event(kNow + absl::Minutes(4), "192.0.2.1"));       // 3 ok: within 5 minutes
  add(Event(kNow - absl::Hours(24 * 401), "192.0.2.1"));  // 4 timestamp_too_old
  add(Event(kNow - absl::Hours(24 * 40), "192.0.2.1"));   // 5 demand only
  add(Event(kNow, "192.0.2.1", "cccccccc-0000-4000-8000-000000000003", ""));  // 6 unknown_resource
  add(Event(kNow, "192.0.2.1", "not-a-uuid", ""));                            // 7 unknown_resource
  add(Event(kNow, "192.0.2.1", kResourceA, kPrimaryB));                       // 8 unknown_instance
  AccessEvent negative = Event(kNow, "192.0.2.1");
  negative.bytes_out = -1;
  add(negative);  // 9
  AccessEvent nan = Event(kNow, "192.0.2.1");
  nan.latency_ms = std::nan("");
  add(nan);  // 10
  AccessEvent inf = Event(kNow, "192.0.2.1");
  inf.cpu_millis = INFINITY;
  add(inf);  // 11
  AccessEvent region = Event(kNow, "192.0.2.1");
  region.origin_region = "atlantis";
  add(region);  // 12 unknown_region
  AccessEvent missing = Event(kNow, "192.0.2.1");
  missing.time.reset();
  add(missing);  // 13 missing_field
  AccessEvent long_type = Event(kNow, "192.0.2.1");
  long_type.request_type = std::string(65, 'x');
  add(long_type);                                         // 14 invalid_field
  add(Event(kNow, "2001:db8::7", kResourceA, kShadowA));  // 15 ok, IPv6, the shadow
  AccessEvent upper = Event(kNow, "192.0.2.1", absl::AsciiStrToUpper(kResourceA), "");
  add(upper);  // 16 ok: ids in any case
  AccessEvent unreadable = Event(kNow, "192.0.2.1");
  unreadable.time.reset();
  unreadable.time_malformed = true;  // what the API passes on for an out-of-range timestamp
  add(unreadable);                   // 17 invalid_field
  // A NUL passes proto3's UTF-8 check but not PostgreSQL text: in COPY it failed the whole group
  // commit. Byte counts past a tebibyte made an hour's sums leave bigint.
  AccessEvent nul_id = Event(kNow, "192.0.2.1");
  nul_id.client_id = std::string("a\0b", 3);
  add(nul_id);  // 18 invalid_field
  AccessEvent nul_type = Event(kNow, "192.0.2.1");
  nul_type.request_type = std::string("GE\0T", 4);
  add(nul_type);  // 19 invalid_field
  AccessEvent huge = Event(kNow, "192.0.2.1");
  huge.bytes_in = std::numeric_limits<int64_t>::max();
  add(huge);  // 20 invalid_field

  UtilizationSample good;
  good.time = kNow;
  good.instance_id = kPrimaryA;
  good.interval = absl::Seconds(10);
  good.cpu_seconds = 2.5;
  good.memory_bytes = 1 << 20;
  batch.samples.push_back(good);  // 0 ok
  UtilizationSample unknown = good;
  unknown.instance_id = "dddddddd-0000-4000-8000-000000000004";
  batch.samples.push_back(unknown);  // 1 unknown_instance
  UtilizationSample no_interval = good;
  no_interval.interval = absl::ZeroDuration();
  batch.samples.push_back(no_interval);  // 2 invalid_field
  UtilizationSample nan_cpu = good;
  nan_cpu.cpu_seconds = std::nan("");
  batch.samples.push_back(nan_cpu);  // 3 not_a_number

  auto ack = Record(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->code, absl::StatusCode::kOk);
  EXPECT_EQ(ack->counts.events_accepted, 4);
  EXPECT_EQ(ack->counts.events_demand_only, 1);
  EXPECT_EQ(ack->counts.samples_accepted, 1);
  auto indexes = [&](const std::string& reason) {
    const store::RejectionCount r = Rejected(*ack, reason);
    return r.first_events;
  };
  EXPECT_EQ(indexes("malformed_ip"), std::vector<int>({1}));
  EXPECT_EQ(indexes("timestamp_in_future"), std::vector<int>({2}));
  EXPECT_EQ(indexes("timestamp_too_old"), std::vector<int>({4}));
  EXPECT_EQ(indexes("unknown_resource"), std::vector<int>({6, 7}));
  EXPECT_EQ(indexes("unknown_instance"), std::vector<int>({8}));
  EXPECT_EQ(indexes("negative_value"), std::vector<int>({9}));
  EXPECT_EQ(indexes("not_a_number"), std::vector<int>({10, 11}));
  EXPECT_EQ(indexes("unknown_region"), std::vector<int>({12}));
  EXPECT_EQ(indexes("missing_field"), std::vector<int>({13}));
  EXPECT_EQ(indexes("invalid_field"), std::vector<int>({14, 17, 18, 19, 20}));
  EXPECT_EQ(Rejected(*ack, "unknown_instance").first_samples.size(), 1);
  EXPECT_EQ(Rejected(*ack, "invalid_field").first_samples[0], 2);
  EXPECT_EQ(Rejected(*ack, "not_a_number").first_samples[0], 3);

  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log WHERE client_ip = '2001:db8::7' AND "
                  "instance_id IS NOT NULL"),
            1);
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), 5) << "raw and demand-only";
  EXPECT_EQ(Count(absl::StrCat("SELECT requests FROM demand_hourly WHERE hour = '",
                               absl::FormatTime("%Y-%m-%d %H:00:00+00", kNow - absl::Hours(24 * 40),
                                                absl::UTCTimeZone()),
                               "'")),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM instance_utilization"), 1);

  // Whole batches that cannot be taken: INVALID_ARGUMENT naming the problem, nothing written.
  AccessBatch no_id = batch;
  no_id.batch_id.clear();
  EXPECT_EQ(pipeline_->Record(std::make_shared<AccessBatch>(no_id), [](BatchAck) {}).code(),
            absl::StatusCode::kInvalidArgument);
  AccessBatch bad_id = batch;
  bad_id.batch_id = "has space";
  EXPECT_EQ(pipeline_->Record(std::make_shared<AccessBatch>(bad_id), [](BatchAck) {}).code(),
            absl::StatusCode::kInvalidArgument);
  AccessBatch oversized;
  oversized.batch_id = "too-big";
  for (int i = 0; i < 1001; ++i) oversized.events.push_back(Event(kNow, "192.0.2.1"));
  const absl::Status too_big =
      pipeline_->Record(std::make_shared<AccessBatch>(oversized), [](BatchAck) {});
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.message().find("max_batch_events"), std::string::npos) << too_big;
  // An empty batch is acknowledged, nothing written.
  AccessBatch empty;
  empty.batch_id = "empty";
  auto empty_ack = Record(empty);
  ASSERT_TRUE(empty_ack.ok());
  EXPECT_EQ(empty_ack->code, absl::StatusCode::kOk);
  EXPECT_EQ(empty_ack->counts.events_accepted, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest_batches WHERE batch_id = 'empty'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 4);
}

TEST_F(IngestTest, OriginsComeFromTheEventThenCidrThenGeoIpElseUnknown) {
  Build({}, /*geoip=*/true);
  AccessBatch batch;
  batch.batch_id = "origins";
  batch.events.push_back(Event(kNow, "10.2.3.4"));       // CIDR 10/8 -> us-east
  batch.events.push_back(Event(kNow, "10.1.3.4"));       // CIDR 10.1/16 wins over 10/8
  batch.events.push_back(Event(kNow, "192.0.2.7"));      // GeoIP -> eu-central
  batch.events.push_back(Event(kNow, "192.0.2.200"));    // CIDR 192.0.2.128/25 wins over GeoIP
  batch.events.push_back(Event(kNow, "2001:db8:1::1"));  // GeoIP, IPv6 -> us-east
  batch.events.push_back(Event(kNow, "203.0.113.9"));    // GeoIP record without region
  batch.events.push_back(Event(kNow, "8.8.8.8"));        // nowhere
  AccessEvent edge = Event(kNow, "10.2.3.4");
  edge.origin_region = "ap-southeast";  // the edge proxy knew better
  batch.events.push_back(edge);
  auto ack = Record(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_EQ(ack->counts.events_accepted, 8);
  pqxx::connection conn(db_->url());
  pqxx::nontransaction txn(conn);
  std::map<std::string, std::vector<std::string>> regions;
  for (const auto& row : txn.exec(
           "SELECT host(client_ip), origin_region FROM client_access_log ORDER BY origin_region")) {
    regions[row[0].as<std::string>()].push_back(row[1].as<std::string>());
  }
  EXPECT_EQ(regions["10.2.3.4"], (std::vector<std::string>{"ap-southeast", "us-east"}));
  EXPECT_EQ(regions["10.1.3.4"], std::vector<std::string>{"ap-southeast"});
  EXPECT_EQ(regions["192.0.2.7"], std::vector<std::string>{"eu-central"});
  EXPECT_EQ(regions["192.0.2.200"], std::vector<std::string>{"us-east"});
  EXPECT_EQ(regions["2001:db8:1::1"], std::vector<std::string>{"us-east"});
  EXPECT_EQ(regions["203.0.113.9"], std::vector<std::string>{"unknown"});
  EXPECT_EQ(regions["8.8.8.8"], std::vector<std::string>{"unknown"});
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly WHERE origin_region = 'unknown'"), 2)
      << "unresolved clients count, under unknown";
}

TEST_F(IngestTest, OnlyWhatClientIpStorageKeepsIsStoredAndOriginsComeFromTheFullAddress) {
  for (ClientIpStorage storage : {ClientIpStorage::kTruncated, ClientIpStorage::kHashed}) {
    ValidationOptions validation;
    validation.client_ip_storage = storage;
    validation.client_ip_key = "a key of sixteen bytes or more";
    Build({}, /*geoip=*/false, validation);
    AccessBatch batch;
    batch.batch_id = absl::StrCat("privacy-", ClientIpStorageName(storage));
    batch.events.push_back(Event(kNow, "10.1.3.4"));  // CIDR 10.1/16 -> ap-southeast
    batch.events.push_back(Event(kNow, "10.1.3.4"));
    batch.events.push_back(Event(kNow, "10.2.3.4"));  // CIDR 10/8 -> us-east
    auto ack = Record(batch);
    ASSERT_TRUE(ack.ok()) << ack.status();
    ASSERT_EQ(ack->counts.events_accepted, 3);
    affinity_->Stop();  // flushes the affinity it coalesced
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    std::map<std::string, std::string> stored;  // address -> origin
    for (const auto& row :
         txn.exec("SELECT DISTINCT host(client_ip), origin_region FROM client_access_log")) {
      stored[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    txn.exec("DELETE FROM client_access_log");
    if (storage == ClientIpStorage::kTruncated) {
      EXPECT_EQ(stored, (std::map<std::string, std::string>{{"10.1.3.0", "ap-southeast"},
                                                            {"10.2.3.0", "us-east"}}));
      EXPECT_EQ(Count("SELECT count(*) FROM client_affinity WHERE client_key = 'ip:10.1.3.0'"), 1);
    } else {
      ASSERT_EQ(stored.size(), 2u);
      for (const auto& [address, origin] : stored) {
        EXPECT_EQ(address.rfind("fd", 0), 0u) << address;
        EXPECT_TRUE(origin == "ap-southeast" || origin == "us-east") << origin;
      }
    }
    // Affinity keeps the stored form, never the address itself.
    EXPECT_EQ(Count("SELECT count(*) FROM client_affinity WHERE client_key LIKE 'ip:10.1.3.4%' OR "
                    "client_key LIKE 'ip:10.2.3.4%'"),
              0);
  }
}

TEST_F(IngestTest, RollupsMatchADirectAggregateOfTheRawLog) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> minute(0, 6 * 60 - 1), client(0, 299), size(0, 100000);
  const std::vector<std::string> ips = {"10.2.0.", "10.1.0.", "192.0.2.", "8.8.4."};
  for (int b = 0; b < 40; ++b) {
    AccessBatch batch;
    batch.batch_id = absl::StrCat("rollup-", b);
    for (int i = 0; i < 250; ++i) {
      const int c = client(rng);
      AccessEvent e =
          Event(kNow - absl::Minutes(minute(rng)), absl::StrCat(ips[c % ips.size()], c % 250),
                c % 3 ? kResourceA : kResourceB, c % 3 ? kPrimaryA : kPrimaryB);
      e.bytes_out = size(rng);
      e.cpu_millis = size(rng) / 997.0;
      if (c % 5 == 0) e.latency_ms.reset();
      if (c % 7 == 0) e.client_id = absl::StrCat("client-", c);
      batch.events.push_back(e);
    }
    auto ack = Record(batch);
    ASSERT_TRUE(ack.ok()) << ack.status();
    ASSERT_EQ(ack->counts.events_accepted, 250);
  }
  EXPECT_EQ(Count(R"SQL(
    SELECT count(*) FROM (
      SELECT resource_id, origin_region, date_trunc('hour', ts AT TIME ZONE 'UTC') AS h,
             count(*) AS requests, sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out,
             sum(cpu_millis) AS cpu, sum(memory_bytes) AS mem,
             coalesce(sum(latency_ms), 0) AS lat, count(latency_ms) AS lat_n
      FROM client_access_log GROUP BY 1, 2, 3) raw
    FULL JOIN demand_hourly d ON d.resource_id = raw.resource_id
      AND d.origin_region = raw.origin_region AND d.hour AT TIME ZONE 'UTC' = raw.h
    WHERE raw.requests IS DISTINCT FROM d.requests OR raw.bytes_in IS DISTINCT FROM d.bytes_in
      OR raw.bytes_out IS DISTINCT FROM d.bytes_out OR abs(raw.cpu - d.cpu_millis) > 1e-6
      OR raw.mem IS DISTINCT FROM d.memory_bytes OR abs(raw.lat - d.latency_ms_sum) > 1e-6
      OR raw.lat_n IS DISTINCT FROM d.latency_count)SQL"),
            0)
      << "every (resource, region, hour) agrees, and none is missing on either side";
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), 40 * 250);

  // Distinct clients: hourly sketches merged over regions and hours, against COUNT(DISTINCT).
  absl::StatusOr<Demand> demand = ReadDailyDemand(kResourceA);
  ASSERT_TRUE(demand.ok()) << demand.status();
  double estimated = 0;
  int64_t requests = 0;
  for (const auto& p : demand->total.points) {
    estimated += p.distinct_clients;
    requests += p.sums.requests;
  }
  const int64_t exact = Count(absl::StrCat(
      "SELECT count(DISTINCT coalesce('id:' || client_id, 'ip:' || host(client_ip))) FROM "
      "client_access_log WHERE resource_id = '",
      kResourceA, "'"));
  EXPECT_EQ(requests,
            Count(absl::StrCat("SELECT count(*) FROM client_access_log WHERE resource_id = '",
                               kResourceA, "'")));
  ASSERT_EQ(demand->total.points.size(), 2u) << "two UTC days in the range";
  EXPECT_NEAR(estimated, exact, exact * 0.05) << "one day holds every event here";
  int64_t hourly_sum = Count(
      "SELECT count(*) FROM (SELECT DISTINCT date_trunc('hour', ts), client_ip, client_id "
      "FROM client_access_log) x");
  EXPECT_LT(estimated, hourly_sum * 0.9) << "merged, not hourly estimates added up";
}

TEST_F(IngestTest, PartitionsAreCreatedAheadAndDroppedAfterTheRetention) {
  store::LeaseStore leases(pool_.get());
  RetentionOptions options;
  options.owner = "test";
  RetentionKeeper keeper(store_.get(), &leases, &clock_, options, nullptr);
  auto ran = keeper.RunOnce();
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_TRUE(*ran);
  auto days = store_->ListPartitions();
  ASSERT_TRUE(days.ok());
  const absl::CivilDay today = absl::ToCivilDay(kNow, absl::UTCTimeZone());
  EXPECT_EQ(*days, (std::vector<absl::CivilDay>{today, today + 1, today + 2, today + 3}));
  RetentionOptions other = options;
  other.owner = "another-replica";
  EXPECT_FALSE(*RetentionKeeper(store_.get(), &leases, &clock_, other, nullptr).RunOnce())
      << "one replica at a time";

  // Events 10 days old get a partition of their own from the writer.
  AccessBatch batch;
  batch.batch_id = "old";
  batch.events.push_back(Event(kNow - absl::Hours(24 * 10), "192.0.2.1"));
  batch.events.push_back(Event(kNow, "192.0.2.1"));
  auto ack = Record(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->counts.events_accepted, 2);
  EXPECT_EQ(store_->ListPartitions()->front(), today - 10);

  // 21 days later the old day is past the 30-day retention: its partition goes, its demand stays.
  clock_.Advance(absl::Hours(24 * 21));
  ASSERT_TRUE(*keeper.RunOnce());
  EXPECT_EQ(store_->ListPartitions()->front(), today);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 1);
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest_batches"), 0) << "dedup window is a day";

  // 400 days on, the demand rows go too.
  clock_.Advance(absl::Hours(24 * 400));
  ASSERT_TRUE(*keeper.RunOnce());
  EXPECT_EQ(Count("SELECT count(*) FROM demand_hourly"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), 0);
}

TEST_F(IngestTest, AFullQueuePushesBackAndLosesNothing) {
  IngestWriterOptions small;
  small.max_queued_records = 300;
  small.retry_after = absl::Milliseconds(250);
  Build(small);
  // Hold the database: the writer's first commit waits for this lock.
  pqxx::connection blocker(db_->url());
  pqxx::work hold(blocker);
  hold.exec("LOCK TABLE ingest_batches IN ACCESS EXCLUSIVE MODE");

  std::vector<std::future<BatchAck>> pending;
  std::vector<std::shared_ptr<std::promise<BatchAck>>> promises;
  int exhausted = 0, submitted = 0;
  std::vector<AccessBatch> refused;
  for (int b = 0; b < 12; ++b) {
    AccessBatch batch;
    batch.batch_id = absl::StrCat("bp-", b);
    for (int i = 0; i < 100; ++i) batch.events.push_back(Event(kNow, "192.0.2.1"));
    auto promise = std::make_shared<std::promise<BatchAck>>();
    pending.push_back(promise->get_future());
    promises.push_back(promise);
    ASSERT_TRUE(pipeline_
                    ->Record(std::make_shared<AccessBatch>(batch),
                             [promise](BatchAck a) { promise->set_value(std::move(a)); })
                    .ok());
    ++submitted;
    absl::SleepFor(absl::Milliseconds(20));  // let validation reach the queue
  }
  std::vector<BatchAck> acks;
  for (int i = 0; i < submitted; ++i) {
    if (pending[i].wait_for(std::chrono::milliseconds(500)) == std::future_status::ready) {
      BatchAck ack = pending[i].get();
      ASSERT_EQ(ack.code, absl::StatusCode::kResourceExhausted)
          << "nothing commits while the table is locked";
      EXPECT_EQ(ack.retry_after, absl::Milliseconds(250));
      EXPECT_NE(ack.message.find("queue full"), std::string::npos) << ack.message;
      ++exhausted;
      pending[i] = std::future<BatchAck>();
    }
  }
  // At most 300 records queued, and a group (one or two batches, as they arrived) in each of the
  // two writers.
  EXPECT_GE(exhausted, 12 - 3 - 2 * 2);
  hold.abort();
  int committed = 0;
  for (auto& f : pending) {
    if (!f.valid()) continue;
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    BatchAck ack = f.get();
    EXPECT_EQ(ack.code, absl::StatusCode::kOk) << ack.message;
    committed += ack.counts.events_accepted;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), committed);
  EXPECT_EQ(committed, (12 - exhausted) * 100);
}

// Stress for AddressSanitizer (ThreadSanitizer cannot see Debian's absl::Mutex:
// deploy/tsan-probe.sh): eight producers race each other and the writers through a small queue,
// each batch sent twice at once and every refusal retried, as an agent's spool would. Every batch
// is stored exactly once, with demand that adds up to the stored rows.
TEST_F(IngestTest, ManyProducersWithRetriesAndDuplicatesStoreEveryBatchOnce) {
  IngestWriterOptions small;
  small.max_queued_records = 400;
  small.retry_after = absl::Milliseconds(5);
  Build(small);
  constexpr int kProducers = 8;
  constexpr int kBatches = 25;
  constexpr int kEvents = 40;
  std::atomic<int> refusals{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> producers;
  std::vector<std::string> failures(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int b = 0; b < kBatches; ++b) {
        AccessBatch batch;
        batch.batch_id = absl::StrCat("stress-", p, "-", b);
        for (int i = 0; i < kEvents; ++i) {
          batch.events.push_back(Event(kNow - absl::Minutes((p * kBatches + b + i) % 600),
                                       absl::StrCat("192.0.2.", (p * 31 + i) % 250),
                                       i % 3 == 0 ? kResourceB : kResourceA,
                                       i % 3 == 0 ? kPrimaryB : kPrimaryA));
        }
        auto shared = std::make_shared<AccessBatch>(batch);
        for (int attempt = 0;; ++attempt) {
          if (attempt > 2000) {
            failures[p] = absl::StrCat(batch.batch_id, " never accepted");
            return;
          }
          // Two copies at once: a client that timed out and resent while the first was queued.
          std::promise<BatchAck> first, second;
          const bool taken_first =
              pipeline_->Record(shared, [&](BatchAck a) { first.set_value(std::move(a)); }).ok();
          const bool taken_second =
              pipeline_->Record(shared, [&](BatchAck a) { second.set_value(std::move(a)); }).ok();
          bool stored = false;
          for (auto [taken, promise] :
               {std::pair{taken_first, &first}, std::pair{taken_second, &second}}) {
            if (!taken) continue;
            const BatchAck ack = promise->get_future().get();
            if (ack.code == absl::StatusCode::kOk) {
              stored = true;
              if (ack.duplicate) duplicates++;
              if (ack.counts.events_accepted != kEvents) {
                failures[p] = absl::StrCat(batch.batch_id, " accepted ", ack.counts.events_accepted,
                                           " events");
              }
            } else if (ack.code == absl::StatusCode::kResourceExhausted) {
              refusals++;
            } else {
              failures[p] = absl::StrCat(batch.batch_id, ": ", ack.message);
              return;
            }
          }
          if (stored) break;
          absl::SleepFor(absl::Milliseconds(2));
        }
      }
    });
  }
  for (std::thread& t : producers) t.join();
  for (const std::string& f : failures) EXPECT_EQ(f, "");
  constexpr int kStored = kProducers * kBatches * kEvents;
  EXPECT_EQ(Count("SELECT count(*) FROM ingest_batches WHERE batch_id LIKE 'stress-%'"),
            kProducers * kBatches);
  EXPECT_EQ(Count("SELECT count(*) FROM client_access_log"), kStored);
  EXPECT_EQ(Count("SELECT sum(requests) FROM demand_hourly"), kStored);
  EXPECT_GT(duplicates.load(), 0) << "no copy raced its twin: the test did not stress anything";
  RecordProperty("refusals", refusals.load());
}

TEST_F(IngestTest, AffinityFollowsTheNewestSighting) {
  AccessBatch batch;
  batch.batch_id = "affinity";
  batch.events.push_back(Event(kNow - absl::Minutes(2), "192.0.2.1", kResourceA, kPrimaryA));
  batch.events.push_back(Event(kNow - absl::Minutes(1), "192.0.2.1", kResourceA, kShadowA));
  batch.events.push_back(Event(kNow - absl::Minutes(3), "192.0.2.1", kResourceA, kPrimaryA));
  AccessEvent named = Event(kNow, "192.0.2.9", kResourceA, kPrimaryA);
  named.client_id = "mobile-42";
  batch.events.push_back(named);
  ASSERT_TRUE(Record(batch).ok());
  ASSERT_TRUE(affinity_->Flush().ok());
  auto rows = telemetry_->Affinity(kResourceA);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].client_key, "id:mobile-42");
  EXPECT_EQ((*rows)[1].client_key, "ip:192.0.2.1");
  EXPECT_EQ((*rows)[1].instance_id, kShadowA) << "the newest sighting, not the last sent";
  EXPECT_EQ((*rows)[1].last_seen, kNow - absl::Minutes(1));
  EXPECT_EQ((*rows)[1].origin_region, "unknown") << "outside every test network, no GeoIP";
}

TEST_F(IngestTest, DemandReadsRefuseBadRequests) {
  DemandReader reader(telemetry_.get(), &clock_, 100);
  DemandQuery query;
  EXPECT_EQ(reader.Read(query).status().code(), absl::StatusCode::kInvalidArgument);
  query.resource_id = "nope";
  EXPECT_EQ(reader.Read(query).status().code(), absl::StatusCode::kInvalidArgument);
  query.resource_id = "cccccccc-0000-4000-8000-000000000003";
  EXPECT_EQ(reader.Read(query).status().code(), absl::StatusCode::kNotFound);
  query.resource_id = kResourceA;
  query.from = kNow;
  query.to = kNow - absl::Hours(2);
  const absl::Status backwards = reader.Read(query).status();
  EXPECT_EQ(backwards.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(backwards.message().find("from"), std::string::npos);
  query.from = kNow - absl::Hours(200);
  query.to = kNow;
  EXPECT_EQ(reader.Read(query).status().code(), absl::StatusCode::kInvalidArgument)
      << "200 hourly buckets, 100 allowed";
  query.step = absl::Minutes(7);
  EXPECT_EQ(reader.Read(query).status().code(), absl::StatusCode::kInvalidArgument);
  query.step = absl::Hours(24);
  absl::StatusOr<Demand> demand = reader.Read(query);
  ASSERT_TRUE(demand.ok()) << demand.status();
  EXPECT_EQ(demand->total.points.size(), 9u) << "zeros where nothing was recorded";
  EXPECT_TRUE(demand->regions.empty());
}

// Byte sums near the largest bigint are held there, in the batch and in the stored hour: before,
// PostgreSQL refused the merge ("bigint out of range"), failing every batch of its commit group
// and every later one touching that hour.
TEST_F(IngestTest, ByteSumsSaturateInsteadOfFailingTheCommitGroup) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kTiB = int64_t{1} << 40;
  AccessBatch first;
  first.batch_id = "saturate-1";
  first.events.push_back(Event(kNow - absl::Minutes(5), "10.2.0.1"));
  ASSERT_TRUE(Record(first).ok());
  {
    pqxx::connection conn(db_->url());
    pqxx::work txn(conn);
    txn.exec(absl::StrCat("UPDATE demand_hourly SET bytes_in = ", kMax - 10, ", bytes_out = ",
                          kMax - kTiB, " WHERE resource_id = '", kResourceA, "'"));
    txn.commit();
  }
  // Two events of 1 TiB in a batch, into the same hour; and another resource's batch committed
  // in the same group or the next.
  AccessBatch large;
  large.batch_id = "saturate-2";
  for (int i = 0; i < 2; ++i) {
    AccessEvent e = Event(kNow - absl::Minutes(4), "10.2.0.2");
    e.bytes_in = kTiB;
    e.bytes_out = kTiB;
    large.events.push_back(e);
  }
  AccessBatch other;
  other.batch_id = "saturate-3";
  other.events.push_back(Event(kNow - absl::Minutes(3), "10.2.0.3", kResourceB, kPrimaryB));
  absl::StatusOr<BatchAck> large_ack = Record(large);
  absl::StatusOr<BatchAck> other_ack = Record(other);
  ASSERT_TRUE(large_ack.ok()) << large_ack.status();
  ASSERT_TRUE(other_ack.ok()) << other_ack.status();
  EXPECT_EQ(large_ack->counts.events_accepted, 2);
  EXPECT_EQ(other_ack->counts.events_accepted, 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT bytes_in FROM demand_hourly WHERE resource_id = '",
                               kResourceA, "'")),
            kMax);
  EXPECT_EQ(Count(absl::StrCat("SELECT bytes_out FROM demand_hourly WHERE resource_id = '",
                               kResourceA, "'")),
            kMax);
  EXPECT_EQ(Count(absl::StrCat("SELECT requests FROM demand_hourly WHERE resource_id = '",
                               kResourceA, "'")),
            3);
  // And a read adding such hours up holds at the maximum too.
  absl::StatusOr<Demand> demand = ReadDailyDemand(kResourceA);
  ASSERT_TRUE(demand.ok()) << demand.status();
  int64_t most = 0;
  for (const auto& p : demand->total.points) most = std::max(most, p.sums.bytes_in);
  EXPECT_EQ(most, kMax);
}

TEST(SaturatingAddTest, HoldsAtTheLimits) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(store::SaturatingAdd(1, 2), 3);
  EXPECT_EQ(store::SaturatingAdd(kMax, 1), kMax);
  EXPECT_EQ(store::SaturatingAdd(kMax - 5, kMax), kMax);
  EXPECT_EQ(store::SaturatingAdd(std::numeric_limits<int64_t>::min(), -1),
            std::numeric_limits<int64_t>::min());
}

}  // namespace
}  // namespace shadowplane::ingest
