// The planner's tick over many reservations with stored forecasts, against the floor of reading
// the same inputs from PostgreSQL alone, in one run.
//
//   planner_bench --database_url=URL [--reservations=10000] [--regions=13] [--locations=3]
//                 [--paths=200] [--threads=2] [--telemetry_hours=24] [--skip_seed] [--read_paths]
//
// Seeds (unless --skip_seed) regions, locations, active reservations (primary and shadow at two
// of the locations), per reservation a stored forecast of every region with joint sample paths
// and their window sums written through the forecast repository as the refresher writes them,
// and --telemetry_hours of hourly demand per region (what bytes per request are read from); then
//   (a) floor: reads what the planner reads, with the same repository calls, a batch of 50
//       reservations at a time on --threads connections: the active reservations, the paths'
//       window sums (which carry the bytes per request) and the migrations; deciding and
//       writing nothing;
//   (b) tick: one planner tick (planner::PlannerLoop, recommend mode) over them on --threads
//       workers, recording its decisions;
// and prints both times, their ratio and the process's peak resident memory after each.
// --read_paths: the planner and the floor read every reservation's sample paths and stored
// forecasts instead of the sums (the planner's read before the sums, and its read under a known
// event), one reservation at a time.
#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "common/worker_pool.h"
#include "forecast/forecaster.h"
#include "forecast/path_sums.h"
#include "forecast/predictor.h"
#include "planner/plan_service.h"
#include "planner/planner_loop.h"
#include "store/connection_pool.h"
#include "store/decision_repository.h"
#include "store/embedded_migrations.h"
#include "store/event_repository.h"
#include "store/forecast_repository.h"
#include "store/lease_store.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/migration_runner.h"
#include "store/reservation_repository.h"
#include "store/sql_time.h"
#include "store/telemetry_repository.h"

ABSL_FLAG(std::string, database_url, "", "PostgreSQL to seed and plan on");
ABSL_FLAG(int, reservations, 10000, "active reservations");
ABSL_FLAG(int, regions, 13, "origin regions with forecast demand");
ABSL_FLAG(int, locations, 3, "candidate locations (every reservation may use every one)");
ABSL_FLAG(int, paths, 200, "joint sample paths per stored forecast");
ABSL_FLAG(int, horizon, 54, "hours per stored forecast (the refresher stores 48 + 6)");
ABSL_FLAG(int, threads, 2, "planner workers and reading connections");
ABSL_FLAG(bool, skip_seed, false, "plan over what an earlier run seeded");
ABSL_FLAG(int, telemetry_hours, 24, "hours of seeded demand per reservation and region");
ABSL_FLAG(bool, read_paths, false, "read the sample paths, not their window sums");

namespace shadowplane {
namespace {

constexpr absl::Time kNow = absl::FromUnixSeconds(1796558400);  // on the hour

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

std::string Region(int i) { return absl::StrFormat("r%02d", i); }
std::string Location(int i) { return absl::StrFormat("loc-%d", i); }

absl::Status Seed(store::ConnectionPool* pool, store::ForecastRepository* forecasts,
                  store::TelemetryRepository* telemetry) {
  const int n = absl::GetFlag(FLAGS_reservations), regions = absl::GetFlag(FLAGS_regions),
            locations = absl::GetFlag(FLAGS_locations), paths = absl::GetFlag(FLAGS_paths),
            horizon = absl::GetFlag(FLAGS_horizon);
  RETURN_IF_ERROR(pool->Run("seeding", [&](pqxx::connection& c) -> absl::Status {
    pqxx::work txn(c);
    for (int r = 0; r < regions; ++r) {
      txn.exec_params(
          "INSERT INTO regions (name, display_name, latitude, longitude, updated_at) VALUES ($1, "
          "$1, $2, $3, now())",
          Region(r), -60 + 120.0 * r / regions, -180 + 360.0 * r / regions);
    }
    for (int l = 0; l < locations; ++l) {
      const std::string region = Region(l * regions / locations);
      txn.exec_params(
          "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
          "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, bandwidth_price_per_gb, "
          "electricity_price_per_kwh, power_draw_watts_per_vcpu, capacity_millicores, "
          "capacity_memory_mib, updated_at) SELECT $1, $2, latitude, longitude, '127.0.0.1:1', "
          "$3, 0.005, 0.05, 0.2, 8, 1000000000, 1000000000, now() FROM regions WHERE name = $2",
          Location(l), region, 0.04 + 0.004 * l);
    }
    // Resources, their active reservations, and a primary and a shadow each.
    txn.exec_params(
        "INSERT INTO resources (id, name, data_size_bytes, created_at) SELECT "
        "md5('res' || g)::uuid, 'r' || g, 1000000000, $2::timestamptz FROM generate_series(1, $1) "
        "g",
        n, store::ToSqlTime(kNow - absl::Hours(24 * 30)));
    txn.exec_params(
        "INSERT INTO reservations (id, request_id, resource_id, state, placement, "
        "capacity_millicores, memory_mib, capacity_type, shadow_capacity_fraction, "
        "shadow_sync_interval_seconds, explanation, seed_dir, created_at, updated_at) SELECT "
        "md5('resv' || g)::uuid, 'req-' || g, md5('res' || g)::uuid, 'active', "
        "'{\"locations\":[],\"regions\":[],\"client_regions\":[]}'::jsonb, 1000, 1024, "
        "'on_demand', 0.25, 60, 'seeded', '', $2::timestamptz, $2::timestamptz FROM "
        "generate_series(1, $1) g",
        n, store::ToSqlTime(kNow - absl::Hours(24 * 30)));
    // Demand over the last hours, 2 KB a request, for the bytes per request.
    txn.exec_params(
        "INSERT INTO demand_hourly (resource_id, origin_region, hour, requests, bytes_out, "
        "clients_hll) SELECT md5('res' || g)::uuid, r.name, $2::timestamptz - make_interval(hours "
        "=> h), 100, 200000, ''::bytea FROM generate_series(1, $1) g CROSS JOIN regions r CROSS "
        "JOIN generate_series(1, $3) h",
        n, store::ToSqlTime(kNow), absl::GetFlag(FLAGS_telemetry_hours));
    for (const char* role : {"primary", "shadow"}) {
      txn.exec_params(
          "INSERT INTO instances (resource_id, role, location, capacity_millicores, memory_mib, "
          "capacity_type, read_only, state, endpoint, created_at, updated_at) SELECT md5('res' || "
          "g)::uuid, $2, 'loc-' || ((g + $4) % $3), CASE WHEN $2 = 'primary' THEN 1000 ELSE 250 "
          "END, CASE WHEN $2 = 'primary' THEN 1024 ELSE 256 END, 'on_demand', $2 = 'shadow', "
          "'running', '127.0.0.1:2', $5::timestamptz, $5::timestamptz FROM generate_series(1, $1) "
          "g",
          n, role, locations, std::string(role) == "primary" ? 0 : 1,
          store::ToSqlTime(kNow - absl::Hours(24 * 30)));
    }
    txn.commit();
    return absl::OkStatus();
  }));

  // Forecasts: demand that leans to one region per resource, paths scattered around it.
  WorkerPool workers("seed", 4, 64);
  std::atomic<int> failed{0};
  for (int g = 1; g <= n; ++g) {
    while (workers.queued() > 32) absl::SleepFor(absl::Milliseconds(1));
    (void)workers.Submit([&, g] {
      std::mt19937 rng(g);
      std::uniform_real_distribution<float> jitter(0.8f, 1.2f);
      std::string id;
      {
        // md5('res' || g)::uuid, spelled as PostgreSQL does.
        auto r = pool->Run("id", [&](pqxx::connection& c) -> absl::StatusOr<std::string> {
          pqxx::read_transaction txn(c);
          return txn.exec_params1("SELECT md5('res' || $1)::uuid::text", g)[0].as<std::string>();
        });
        if (!r.ok()) {
          ++failed;
          return;
        }
        id = *r;
      }
      std::vector<store::ForecastRecord> records;
      store::ForecastPathsRecord p;
      p.resource_id = id;
      p.computed_at = kNow;
      p.first_hour = kNow;
      p.paths = paths;
      p.horizon = horizon;
      double total = 0;
      for (int r = 0; r < regions; ++r) {
        const double rate = (r == g % regions ? 2000.0 : 100.0) * (1 + r % 3);
        total += rate;
        store::ForecastRecord f;
        f.resource_id = id;
        f.origin_region = Region(r);
        f.model = "seasonal_naive";
        f.first_hour = kNow;
        f.values.assign(horizon, rate);
        f.computed_at = kNow;
        f.history_hours = 24 * 28;
        records.push_back(f);
        p.regions.push_back(Region(r));
        std::vector<float> v(static_cast<size_t>(paths) * horizon);
        for (float& x : v) x = static_cast<float>(rate) * jitter(rng);
        p.values.push_back(std::move(v));
      }
      store::ForecastRecord t = records.front();
      t.origin_region = "total";
      t.values.assign(horizon, total);
      records.push_back(t);
      // The window sums the server's refresher writes at the defaults (--plan_horizon 24h, a
      // start for each hour up to --plan_max_forecast_age 8h and two more).
      forecast::PathSumsOptions sums;
      sums.window_hours = 24;
      sums.starts = 10;
      // With the bytes per request of the week before, read as the refresher reads them.
      auto bytes = telemetry->BytesPerRequest(id, kNow - sums.egress_history, kNow);
      if (!bytes.ok()) {
        ++failed;
        return;
      }
      const std::vector<store::PathSumsRecord> windows =
          forecast::PathSumsOf(records, p, sums, *bytes);
      if (!forecasts->Append(records).ok() || !forecasts->UpsertPaths(p, windows).ok()) ++failed;
    });
  }
  workers.Shutdown();
  if (failed > 0) return absl::InternalError(absl::StrCat(failed.load(), " forecasts not stored"));
  return absl::OkStatus();
}

int Run() {
  const std::string url = absl::GetFlag(FLAGS_database_url);
  if (url.empty()) {
    std::cerr << "planner_bench: --database_url is required\n";
    return 2;
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  store::ConnectionPoolOptions pool_options;
  pool_options.url = url;
  pool_options.max_connections = threads + 4;
  store::ConnectionPool pool(pool_options, nullptr);
  store::ForecastRepository forecasts(&pool);
  if (!absl::GetFlag(FLAGS_skip_seed)) {
    {
      pqxx::connection conn(url);
      auto parsed = store::ParseMigrations(store::EmbeddedMigrationFiles());
      if (!parsed.ok() || !store::ApplyMigrations(conn, *parsed).ok()) {
        std::cerr << "planner_bench: cannot apply the schema\n";
        return 1;
      }
    }
    const absl::Time started = absl::Now();
    store::TelemetryRepository seed_telemetry(&pool);
    const absl::Status seeded = Seed(&pool, &forecasts, &seed_telemetry);
    if (!seeded.ok()) {
      std::cerr << "planner_bench: seeding failed: " << seeded << "\n";
      return 1;
    }
    std::cerr << absl::StrFormat("seeded %d reservations in %.1f s\n",
                                 absl::GetFlag(FLAGS_reservations),
                                 absl::ToDoubleSeconds(absl::Now() - started));
  }

  FakeClock clock(kNow + absl::Minutes(10));
  store::ReservationRepository reservations(&pool);
  store::LocationRepository locations(&pool);
  store::MigrationRepository migrations(&pool);
  store::TelemetryRepository telemetry(&pool);
  store::DecisionRepository decisions(&pool);
  store::LeaseStore leases(&pool);

  // (a) The floor: the planner's reads alone.
  const absl::Time floor_started = absl::Now();
  {
    store::ReservationFilter filter;
    filter.state = "active";
    filter.page_size = 500;
    std::vector<std::string> ids;
    while (true) {
      auto page = reservations.List(filter);
      if (!page.ok()) return 1;
      for (const auto& r : *page) ids.push_back(r.resource_id);
      if (static_cast<int>(page->size()) < filter.page_size) break;
      filter.after = page->back().id;
    }
    const bool read_paths = absl::GetFlag(FLAGS_read_paths);
    std::atomic<size_t> next{0};
    // Time in each read, summed over the threads.
    std::atomic<int64_t> forecasts_us{0}, paths_us{0}, other_us{0};
    std::vector<std::thread> readers;
    constexpr size_t kBatch = 50;  // planner::PlannerLoopOptions().batch_size
    for (int t = 0; t < threads; ++t) {
      readers.emplace_back([&] {
        if (read_paths) {
          for (size_t i = next++; i < ids.size(); i = next++) {
            absl::Time t0 = absl::Now();
            auto f = forecasts.Latest(ids[i]);
            absl::Time t1 = absl::Now();
            auto p = forecasts.LatestPaths(ids[i]);
            absl::Time t2 = absl::Now();
            store::MigrationFilter m;
            m.resource_id = ids[i];
            m.created_after = kNow - absl::Hours(48);
            auto ms = migrations.List(m);
            auto accuracy = forecasts.Realized(ids[i], kNow - absl::Hours(24 * 7));
            auto bytes_per_request =
                telemetry.BytesPerRequest(ids[i], kNow - absl::Hours(24 * 7), kNow);
            absl::Time t3 = absl::Now();
            forecasts_us += absl::ToInt64Microseconds(t1 - t0);
            paths_us += absl::ToInt64Microseconds(t2 - t1);
            other_us += absl::ToInt64Microseconds(t3 - t2);
          }
          return;
        }
        for (size_t from = next.fetch_add(kBatch); from < ids.size();
             from = next.fetch_add(kBatch)) {
          const std::vector<std::string> batch(
              ids.begin() + static_cast<std::ptrdiff_t>(from),
              ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kBatch)));
          absl::Time t0 = absl::Now();
          auto sums = forecasts.PathSumsAt(batch, kNow, 24);
          absl::Time t1 = absl::Now();
          auto ms = migrations.OfResources(batch, kNow - absl::Hours(48));
          absl::Time t2 = absl::Now();
          paths_us += absl::ToInt64Microseconds(t1 - t0);
          other_us += absl::ToInt64Microseconds(t2 - t1);
          if (!sums.ok() || sums->size() != batch.size()) {
            std::cerr << "planner_bench: window sums missing\n";
            std::exit(1);
          }
        }
      });
    }
    for (auto& t : readers) t.join();
    std::cout << absl::StrFormat(
        "floor's reads per reservation (summed over threads): stored forecasts %.2f ms, %s %.2f "
        "ms, migrations%s %.2f ms\n",
        forecasts_us / 1e3 / ids.size(),
        read_paths ? "sample paths" : "window sums (with bytes per request)",
        paths_us / 1e3 / ids.size(), read_paths ? ", accuracy and bytes per request" : "",
        other_us / 1e3 / ids.size());
  }
  const double floor_seconds = absl::ToDoubleSeconds(absl::Now() - floor_started);
  const double floor_rss = PeakRssMiB();

  // (b) One planner tick.
  forecast::Forecaster forecaster(&telemetry, &clock, forecast::ForecasterOptions(), nullptr);
  forecast::PredictorOptions predictor_options;
  forecast::Predictor predictor(&forecaster, &forecasts, &telemetry, &clock, predictor_options,
                                nullptr, &locations, &reservations);
  geo::RttModel rtt;
  planner::PlanService::Sources sources;
  sources.reservations = &reservations;
  sources.locations = &locations;
  sources.migrations = &migrations;
  sources.decisions = &decisions;
  sources.telemetry = &telemetry;
  store::EventRepository events(&pool);
  if (!absl::GetFlag(FLAGS_read_paths)) {
    sources.forecasts = &forecasts;
    sources.events = &events;
  }
  sources.predictor = &predictor;
  sources.rtt = &rtt;
  sources.expected_freeze_seconds = []() -> absl::StatusOr<double> { return 0.1; };
  sources.clock = &clock;
  planner::PlanServiceOptions plan_options;
  plan_options.sample_paths = absl::GetFlag(FLAGS_paths);
  planner::PlanService plans(sources, plan_options);
  WorkerPool workers("planner", threads, 2 * threads);
  planner::PlannerLoop::Sources loop_sources;
  loop_sources.plans = &plans;
  loop_sources.reservations = &reservations;
  loop_sources.decisions = &decisions;
  loop_sources.leases = &leases;
  loop_sources.start_move = [](const planner::MoveOrder&) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError("recommend mode: never called");
  };
  loop_sources.explain = [](const planner::PlanDecision& d) { return std::string("{}"); };
  loop_sources.clock = &clock;
  loop_sources.workers = &workers;
  planner::PlannerLoopOptions loop_options;
  loop_options.owner = "bench";
  loop_options.max_in_flight = 2 * threads;
  loop_options.interval = absl::Hours(1);
  planner::PlannerLoop loop(loop_sources, loop_options, nullptr);
  const absl::Time tick_started = absl::Now();
  absl::StatusOr<planner::PlannerLoop::Tick> tick = loop.RunOnce();
  const double tick_seconds = absl::ToDoubleSeconds(absl::Now() - tick_started);
  if (!tick.ok()) {
    std::cerr << "planner_bench: the tick failed: " << tick.status() << "\n";
    return 1;
  }
  std::string outcomes;
  for (const auto& [name, count] : tick->outcomes)
    absl::StrAppend(&outcomes, " ", name, "=", count);
  std::cout << absl::StrFormat(
      "planner tick: %d reservations x %d regions x %d locations, %d paths, %d threads: %.2f s "
      "(%d planned, %d recorded, %d failed;%s), peak RSS %.0f MiB\n"
      "floor (the planner's reads from PostgreSQL alone, no writes): %.2f s, peak RSS %.0f MiB\n"
      "ratio tick / floor: %.2f\n",
      absl::GetFlag(FLAGS_reservations), absl::GetFlag(FLAGS_regions),
      absl::GetFlag(FLAGS_locations), absl::GetFlag(FLAGS_paths), threads, tick_seconds,
      tick->planned, tick->recorded, tick->failed, outcomes, PeakRssMiB(), floor_seconds, floor_rss,
      tick_seconds / floor_seconds);
  return 0;
}

}  // namespace
}  // namespace shadowplane

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shadowplane::Run();
}
