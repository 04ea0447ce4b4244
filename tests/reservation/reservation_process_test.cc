// PostgreSQL, the server and three agents in three regions (label e2e): reservations for real.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "providers/compute/local/local_compute_provider.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "support/agent_under_test.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"
#include "support/server_client.h"
#include "support/test_database.h"
#include "support/traffic_servers.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
namespace pb = shadowplane::v1;

class ReservationProcessTest : public testing::ControlPlaneTest {
 protected:
  grpc::Status ListSyncRuns(const std::string& id, int limit, pb::ListSyncRunsResponse* out) {
    grpc::ClientContext context;
    pb::ListSyncRunsRequest list;
    list.set_reservation_id(id);
    list.set_limit(limit);
    out->Clear();
    return sync_->ListSyncRuns(&context, list, out);
  }
};

TEST_F(ReservationProcessTest, ReservesAPrimaryAndADiverseShadowThatServeTheSeed) {
  pb::Reservation r;
  grpc::Status status = Reserve(Request("req-1"), &r);
  ASSERT_TRUE(status.ok()) << status.error_message() << server_->Output();
  EXPECT_EQ(r.state(), "active") << r.error();
  EXPECT_EQ(r.primary().location(), "iad-1") << "the cheapest location, with no client regions";
  EXPECT_NE(r.shadow().region(), r.primary().region());
  EXPECT_EQ(r.shadow().millicores(), 250);
  EXPECT_TRUE(r.shadow().read_only());
  EXPECT_FALSE(r.primary().read_only());
  EXPECT_TRUE(absl::StrContains(r.explanation(), "primary at iad-1")) << r.explanation();

  int code = 0;
  EXPECT_EQ(Fetch(r.primary().endpoint(), "/index.html", &code), "<h1>hello</h1>");
  EXPECT_EQ(code, 200);
  EXPECT_EQ(Fetch(r.shadow().endpoint(), "/docs/readme.txt", &code), "read me");
  EXPECT_EQ(code, 200);
  EXPECT_EQ(Put(r.shadow().endpoint(), "/x.txt"), 405) << "the shadow is read-only";
  EXPECT_EQ(Put(r.primary().endpoint(), "/x.txt"), 201);

  // A retry with the same request id is the same reservation.
  pb::Reservation again;
  ASSERT_TRUE(Reserve(Request("req-1"), &again).ok());
  EXPECT_EQ(again.id(), r.id());
  pb::ListReservationsResponse list;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(reservations_->ListReservations(&context, {}, &list).ok());
  }
  EXPECT_EQ(list.reservations_size(), 1);

  // Client regions move the primary towards them.
  pb::ReserveRequest near = Request("req-asia");
  auto* client = near.mutable_placement()->add_client_regions();
  client->set_region("ap-southeast");
  client->set_weight(1);
  pb::Reservation asia;
  ASSERT_TRUE(Reserve(near, &asia).ok());
  EXPECT_EQ(asia.primary().location(), "sin-1");

  // The location's capacity accounts for the instances.
  pb::Location iad;
  {
    grpc::ClientContext context;
    pb::GetLocationRequest request;
    request.set_name("iad-1");
    ASSERT_TRUE(locations_->GetLocation(&context, request, &iad).ok());
  }
  int64_t expected_used = 1000;  // r's primary, plus asia's shadow if it landed there
  if (asia.shadow().location() == "iad-1") expected_used += asia.shadow().millicores();
  EXPECT_EQ(iad.used_millicores(), expected_used);

  // Scaling through UpdateReservation reaches the running primary.
  {
    grpc::ClientContext context;
    pb::UpdateReservationRequest update;
    update.set_id(r.id());
    update.set_millicores(2000);
    pb::Reservation updated;
    ASSERT_TRUE(reservations_->UpdateReservation(&context, update, &updated).ok());
    EXPECT_EQ(updated.primary().millicores(), 2000);
    EXPECT_EQ(updated.shadow().millicores(), 500);
    bool applied = false;
    for (int i = 0; i < 50 && !applied; ++i) {
      applied = absl::StrContains(Fetch(r.primary().endpoint(), "/_shadowplane/status", &code),
                                  "\"millicores\":2000");
      if (!applied) absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_TRUE(applied);
  }

  // Metrics: reservations and instances by state and location, provider call latency.
  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics");
  std::string metrics;
  bool counted = false;
  for (int i = 0; i < 50 && !counted; ++i) {  // gauges refresh with the reconcile pass
    metrics = testing::RunToCompletion({"/usr/bin/curl", "-sf", url}).output;
    counted = absl::StrContains(metrics, "shadowplane_reservations{state=\"active\"} 2");
    if (!counted) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(counted) << metrics;
  for (const char* expected :
       {"shadowplane_instances{location=\"iad-1\",state=\"running\"}",
        "shadowplane_compute_provider_call_seconds_count{method=\"CreateInstance\",provider="
        "\"local\"} 4",
        "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Reserve\""}) {
    EXPECT_TRUE(absl::StrContains(metrics, expected)) << expected << "\n" << metrics;
  }
  EXPECT_EQ(
      testing::RunToCompletion(
          {"/bin/sh", "-c", "/usr/bin/curl -sf " + url + " | /usr/bin/promtool check metrics"})
          .exit_code,
      0);

  // Release stops both instances; releasing again is harmless.
  pb::Reservation released;
  {
    grpc::ClientContext context;
    pb::ReleaseRequest request;
    request.set_id(r.id());
    ASSERT_TRUE(reservations_->Release(&context, request, &released).ok());
  }
  EXPECT_EQ(released.state(), "released");
  Fetch(r.primary().endpoint(), "/index.html", &code);
  EXPECT_EQ(code, -1);
  {
    grpc::ClientContext context;
    pb::ReleaseRequest request;
    request.set_id(r.id());
    ASSERT_TRUE(reservations_->Release(&context, request, &released).ok());
    EXPECT_EQ(released.state(), "released");
  }
}

TEST_F(ReservationProcessTest, AgentDownDuringReserveLeavesItPendingUntilItReturns) {
  agents_["iad-1"]->Kill();
  pb::Reservation r;
  grpc::Status status = Reserve(Request("req-pending"), &r);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(r.state(), "pending");
  EXPECT_EQ(r.primary().location(), "iad-1");
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(GetReservation(r.id(), &r).ok());
  EXPECT_EQ(r.state(), "pending") << "nothing to do while the agent is away";

  ASSERT_TRUE(agents_["iad-1"]->Start().ok());
  bool active = false;
  for (int i = 0; i < 100 && !active; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(GetReservation(r.id(), &r).ok());
    active = r.state() == "active";
  }
  ASSERT_TRUE(active) << r.DebugString() << server_->Output();
  int code = 0;
  EXPECT_EQ(Fetch(r.primary().endpoint(), "/index.html", &code), "<h1>hello</h1>");
}

TEST_F(ReservationProcessTest, PermanentAgentErrorRollsBackCleanly) {
  pb::ReserveRequest request = Request("req-bad-seed");
  request.set_seed_dir(root_ + "/no-such-seed");
  pb::Reservation r;
  grpc::Status status = Reserve(request, &r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "no-such-seed")) << status.error_message();
  pb::ListReservationsRequest list_request;
  list_request.set_state("failed");
  pb::ListReservationsResponse list;
  grpc::ClientContext context;
  ASSERT_TRUE(reservations_->ListReservations(&context, list_request, &list).ok());
  ASSERT_EQ(list.reservations_size(), 1);
  EXPECT_TRUE(absl::StrContains(list.reservations(0).error(), "no-such-seed"));
  pb::Location iad;
  grpc::ClientContext get_context;
  pb::GetLocationRequest get;
  get.set_name("iad-1");
  ASSERT_TRUE(locations_->GetLocation(&get_context, get, &iad).ok());
  EXPECT_EQ(iad.used_millicores(), 0) << "nothing left holding capacity";
}

TEST_F(ReservationProcessTest, BadInputGetsTheRightStatus) {
  auto reserve_code = [&](const pb::ReserveRequest& request, std::string* message) {
    pb::Reservation r;
    grpc::Status status = Reserve(request, &r);
    if (message != nullptr) *message = status.error_message();
    return status.error_code();
  };
  std::string message;
  pb::ReserveRequest r = Request("");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(message, "request_id"));
  r = Request("b1");
  r.set_millicores(0);
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(message, "millicores"));
  r = Request("b2");
  r.set_shadow_capacity_fraction(1.5);
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(message, "shadow_capacity_fraction"));
  r = Request("b3");
  r.set_shadow_capacity_fraction(0);
  EXPECT_EQ(reserve_code(r, nullptr), grpc::StatusCode::INVALID_ARGUMENT);
  r = Request("b4");
  r.mutable_placement()->add_locations("atlantis");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StrContains(message, "atlantis"));
  r = Request("b5");
  r.mutable_placement()->add_regions("mars");
  EXPECT_EQ(reserve_code(r, nullptr), grpc::StatusCode::NOT_FOUND);
  r = Request("b6");
  r.mutable_placement()->add_locations("fra-1");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(message, "shadow")) << message;
  r = Request("b7");
  r.set_millicores(100000);
  EXPECT_EQ(reserve_code(r, nullptr), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // An empty region makes an empty location set.
  {
    grpc::ClientContext context;
    pb::UpsertRegionRequest request;
    request.mutable_region()->set_name("antarctica");
    request.mutable_region()->set_latitude(-80);
    pb::Region region;
    ASSERT_TRUE(locations_->UpsertRegion(&context, request, &region).ok());
  }
  r = Request("b8");
  r.mutable_placement()->add_regions("antarctica");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);

  // A NUL would be cut off by libpq (the reservation stored under "n" would answer a later "n"),
  // so every string holding one is refused, named by its path, and nothing is reserved.
  const auto reservation_count = [&] {
    grpc::ClientContext context;
    pb::ListReservationsResponse list;
    EXPECT_TRUE(reservations_->ListReservations(&context, {}, &list).ok());
    return list.reservations_size();
  };
  const int before = reservation_count();
  const std::string nul("\0", 1);
  r = Request("n" + nul + "x");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(message, "request_id contains a NUL character, which cannot be stored");
  r = Request("n1");
  r.set_name("shop" + nul);
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "name contains a NUL")) << message;
  r = Request("n2");
  r.set_seed_dir("/srv/seed" + nul + "/../etc");
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "seed_dir contains a NUL")) << message;
  r = Request("n3");
  r.mutable_placement()->add_regions("eu-central");
  r.mutable_placement()->add_regions("us" + nul);
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "placement.regions[1] contains a NUL")) << message;
  r = Request("n4");
  r.mutable_placement()->add_client_regions()->set_region("eu" + nul);
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "placement.client_regions[0].region contains")) << message;
  EXPECT_EQ(reservation_count(), before);
  // Names and seed directories are bounded like every other text.
  r = Request("n5");
  r.set_name(std::string(201, 'a'));
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "name is over 200 bytes")) << message;
  r = Request("n6");
  r.set_seed_dir("/" + std::string(4096, 'a'));
  EXPECT_EQ(reserve_code(r, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(message, "seed_dir is over 4096 bytes")) << message;
  EXPECT_EQ(reservation_count(), before);

  // Locations and regions.
  auto upsert_code = [&](const pb::Location& l, std::string* message) {
    grpc::ClientContext context;
    pb::UpsertLocationRequest request;
    *request.mutable_location() = l;
    pb::Location out;
    grpc::Status status = locations_->UpsertLocation(&context, request, &out);
    if (message != nullptr) *message = status.error_message();
    return status.error_code();
  };
  pb::Location l;
  l.set_name("new-1");
  l.set_region("eu-central");
  l.set_latitude(48.1);
  l.set_longitude(11.6);
  l.set_capacity_millicores(1000);
  l.set_capacity_memory_mib(1024);
  l.set_on_demand_price_per_vcpu_hour(9.99);  // never the cheapest: it has no agent
  EXPECT_EQ(upsert_code(l, nullptr), grpc::StatusCode::OK);
  pb::Location bad = l;
  bad.set_latitude(91);
  EXPECT_EQ(upsert_code(bad, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(message, "latitude"));
  bad = l;
  bad.set_on_demand_price_per_vcpu_hour(-1);
  EXPECT_EQ(upsert_code(bad, &message), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(message, "on_demand_price_per_vcpu_hour"));
  bad = l;
  bad.set_spot_availability(2);
  EXPECT_EQ(upsert_code(bad, &message), grpc::StatusCode::INVALID_ARGUMENT);
  bad = l;
  bad.set_region("nowhere");
  EXPECT_EQ(upsert_code(bad, nullptr), grpc::StatusCode::NOT_FOUND);
  bad = l;
  bad.set_name("Bad Name");
  EXPECT_EQ(upsert_code(bad, nullptr), grpc::StatusCode::INVALID_ARGUMENT);

  pb::Reservation live;
  ASSERT_TRUE(Reserve(Request("live"), &live).ok());
  {
    grpc::ClientContext context;
    pb::DeleteLocationRequest request;
    request.set_name(live.primary().location());
    pb::DeleteResponse out;
    EXPECT_EQ(locations_->DeleteLocation(&context, request, &out).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext context;
    pb::DeleteRegionRequest request;
    request.set_name("eu-central");
    pb::DeleteResponse out;
    EXPECT_EQ(locations_->DeleteRegion(&context, request, &out).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext context;
    pb::DeleteLocationRequest request;
    request.set_name("new-1");
    pb::DeleteResponse out;
    EXPECT_TRUE(locations_->DeleteLocation(&context, request, &out).ok());
  }
  {
    grpc::ClientContext context;
    pb::GetLocationRequest request;
    request.set_name("new-1");
    pb::Location out;
    EXPECT_EQ(locations_->GetLocation(&context, request, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  pb::Reservation missing;
  EXPECT_EQ(GetReservation("00000000-0000-0000-0000-000000000000", &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetReservation("not-a-uuid", &missing).error_code(), grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext context;
    pb::ListReservationsRequest request;
    request.set_state("sleeping");
    pb::ListReservationsResponse out;
    EXPECT_EQ(reservations_->ListReservations(&context, request, &out).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    pb::ListLocationsRequest request;
    request.set_page_size(5000);
    pb::ListLocationsResponse out;
    EXPECT_EQ(locations_->ListLocations(&context, request, &out).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    pb::ReleaseRequest request;
    request.set_id("00000000-0000-0000-0000-000000000000");
    pb::Reservation out;
    EXPECT_EQ(reservations_->Release(&context, request, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    // Only active reservations can be updated.
    pb::ReserveRequest request = Request("b-failed");
    request.set_seed_dir(root_ + "/no-such-seed");
    pb::Reservation ignored;
    ASSERT_EQ(Reserve(request, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc::ClientContext list_context;
    pb::ListReservationsRequest list_request;
    list_request.set_state("failed");
    pb::ListReservationsResponse failed;
    ASSERT_TRUE(reservations_->ListReservations(&list_context, list_request, &failed).ok());
    ASSERT_EQ(failed.reservations_size(), 1);
    grpc::ClientContext context;
    pb::UpdateReservationRequest update;
    update.set_id(failed.reservations(0).id());
    update.set_millicores(2000);
    pb::Reservation out;
    EXPECT_EQ(reservations_->UpdateReservation(&context, update, &out).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext context;
    pb::UpdateReservationRequest request;
    request.set_id(live.id());
    request.set_shadow_capacity_fraction(-0.5);
    pb::Reservation out;
    EXPECT_EQ(reservations_->UpdateReservation(&context, request, &out).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(ReservationProcessTest, ReconcileBringsInstancesBackToTheirRecordedState) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-drift"), &r).ok());
  ASSERT_EQ(r.state(), "active");
  ASSERT_EQ(Put(r.primary().endpoint(), "/written.txt"), 201);
  // Behind the control plane's back: the primary is stopped, the shadow deleted with its data.
  providers::ComputeProviderContext context;
  context.location_endpoint = [this](const std::string& location) -> absl::StatusOr<std::string> {
    return agents_.at(location)->endpoint();
  };
  providers::LocalComputeProvider agents(context);
  ASSERT_TRUE(agents.DeactivateInstance(r.primary().location(), r.primary().id(), false).ok());
  ASSERT_TRUE(agents.DeactivateInstance(r.shadow().location(), r.shadow().id(), true).ok());

  bool back = false;
  int code = 0;
  for (int i = 0; i < 100 && !back; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    auto primary = agents.DescribeInstance(r.primary().location(), r.primary().id());
    auto shadow = agents.DescribeInstance(r.shadow().location(), r.shadow().id());
    back = primary.ok() && primary->state == providers::InstanceRunState::kRunning && shadow.ok() &&
           shadow->state == providers::InstanceRunState::kRunning;
  }
  ASSERT_TRUE(back) << server_->Output();
  EXPECT_EQ(Fetch(r.primary().endpoint(), "/written.txt", &code), "new")
      << "restarted with its data";
  EXPECT_EQ(Fetch(r.shadow().endpoint(), "/index.html", &code), "<h1>hello</h1>");

  // A primary lost with its data is not re-seeded: it is marked failed for a person to see.
  ASSERT_TRUE(agents.DeactivateInstance(r.primary().location(), r.primary().id(), true).ok());
  bool failed = false;
  for (int i = 0; i < 100 && !failed; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    pb::Reservation now;
    ASSERT_TRUE(GetReservation(r.id(), &now).ok());
    failed = now.primary().state() == "failed";
  }
  EXPECT_TRUE(failed);
  EXPECT_EQ(agents.DescribeInstance(r.primary().location(), r.primary().id()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ReservationProcessTest, ShadowctlDrivesTheApi) {
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {SHADOWCTL_BIN, "--insecure"});
    return testing::RunToCompletion(args);
  };
  auto locations = run({"locations", "list", server});
  ASSERT_EQ(locations.exit_code, 0) << locations.output;
  EXPECT_TRUE(absl::StrContains(locations.output, "NAME")) << locations.output;
  EXPECT_TRUE(absl::StrContains(locations.output, "sin-1"));
  EXPECT_TRUE(absl::StrContains(locations.output, "0/4000"));

  auto reserved =
      run({"reserve", server, "--request_id=ctl-1", "--name=shop", "--millicores=500",
           "--memory_mib=256", "--seed_dir=" + seed_, "--clients=eu-central:3,us-east:1"});
  ASSERT_EQ(reserved.exit_code, 0) << reserved.output;
  EXPECT_TRUE(absl::StrContains(reserved.output, "(active)")) << reserved.output;
  EXPECT_TRUE(absl::StrContains(reserved.output, "primary  fra-1")) << reserved.output;
  EXPECT_TRUE(absl::StrContains(reserved.output, "why: primary at fra-1"));

  auto json = run({"reservations", "list", server, "--json", "--state=active"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "\"request_id\": \"ctl-1\"")) << json.output;
  const size_t at = json.output.find("\"id\": \"");
  ASSERT_NE(at, std::string::npos);
  const std::string id = json.output.substr(at + 7, 36);

  auto got = run({"reservations", "get", id, server});
  EXPECT_EQ(got.exit_code, 0) << got.output;
  EXPECT_TRUE(absl::StrContains(got.output, id));

  // The planner's settings for the reservation: set, shown, refused when bad (naming the field).
  auto tuned = run({"reservations", "update", id, server, "--planner_mode=auto", "--threshold=0.9",
                    "--pin=fra-1"});
  ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
  EXPECT_TRUE(absl::StrContains(tuned.output,
                                "planner      mode auto, threshold 0.9, pinned to "
                                "fra-1"))
      << tuned.output;
  auto bad_mode = run({"reservations", "update", id, server, "--planner_mode=sometimes"});
  EXPECT_EQ(bad_mode.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad_mode.output, "planner.mode")) << bad_mode.output;
  auto bad_pin = run({"reservations", "update", id, server, "--pin=nowhere-1"});
  EXPECT_TRUE(absl::StrContains(bad_pin.output, "planner.pinned_location")) << bad_pin.output;
  auto reset = run({"reservations", "update", id, server, "--reset_planner"});
  ASSERT_EQ(reset.exit_code, 0) << reset.output;
  EXPECT_FALSE(absl::StrContains(reset.output, "planner      ")) << reset.output;

  // The live view, once (not a terminal): the reservation with its locations, plain text.
  auto top = run({"top", server, "--iterations=1"});
  ASSERT_EQ(top.exit_code, 0) << top.output;
  EXPECT_TRUE(absl::StrContains(top.output, "planner running")) << top.output;
  EXPECT_TRUE(absl::StrContains(top.output, "shop")) << top.output;
  EXPECT_TRUE(absl::StrContains(top.output, "fra-1")) << top.output;
  EXPECT_TRUE(absl::StrContains(top.output, "migrations in progress: 0")) << top.output;
  EXPECT_FALSE(absl::StrContains(top.output, "\x1b[")) << top.output;
  EXPECT_EQ(run({"top", server, "--refresh_seconds=0"}).exit_code, 2);

  // The planner's dry run: the new reservation has no stored forecast yet, so it stays and says
  // why; bad input is named.
  auto plan = run({"plan", server});
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  for (const char* expected :
       {": stay (mode recommend", "LOCATION", "no_forecast: no stored forecast of"}) {
    EXPECT_TRUE(absl::StrContains(plan.output, expected)) << expected << "\n" << plan.output;
  }
  auto bad_threshold = run({"plan", server, "--threshold=2"});
  EXPECT_EQ(bad_threshold.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad_threshold.output, "INVALID_ARGUMENT")) << bad_threshold.output;
  EXPECT_TRUE(absl::StrContains(bad_threshold.output, "migration_threshold"));
  auto unknown_resource = run({"plan", "00000000-0000-4000-8000-000000000000", server});
  EXPECT_EQ(unknown_resource.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown_resource.output, "NOT_FOUND")) << unknown_resource.output;
  // The planner's controls: paused and resumed, recorded with the caller; stored decisions
  // listed (the loop's first tick may or may not have run yet); unknown decisions named.
  auto paused = run({"planner", "pause", server, "--reason=maintenance"});
  ASSERT_EQ(paused.exit_code, 0) << paused.output;
  EXPECT_TRUE(absl::StrContains(paused.output, "automatic moves: paused (pause at"))
      << paused.output;
  EXPECT_TRUE(absl::StrContains(paused.output, ": maintenance)")) << paused.output;
  auto status = run({"planner", "status", server});
  EXPECT_TRUE(absl::StrContains(status.output, "paused")) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "planned moves in the last hour: 0 of 20"))
      << status.output;
  auto resumed = run({"planner", "resume", server});
  EXPECT_TRUE(absl::StrContains(resumed.output, "automatic moves: running (resume at"))
      << resumed.output;
  auto decisions = run({"decisions", "list", server});
  ASSERT_EQ(decisions.exit_code, 0) << decisions.output;
  EXPECT_TRUE(absl::StrContains(decisions.output, "DECISION")) << decisions.output;
  auto calibration = run({"planner", "calibration", server});
  ASSERT_EQ(calibration.exit_code, 0) << calibration.output;
  EXPECT_TRUE(absl::StrContains(calibration.output, "0 of 0 judged planner moves paid off"))
      << calibration.output;
  auto bad_outcome = run({"decisions", "list", server, "--outcome=maybe"});
  EXPECT_EQ(bad_outcome.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad_outcome.output, "INVALID_ARGUMENT")) << bad_outcome.output;
  for (const char* verb : {"get", "apply"}) {
    auto unknown_decision =
        run({"decisions", verb, "00000000-0000-4000-8000-000000000000", server});
    EXPECT_EQ(unknown_decision.exit_code, 1);
    EXPECT_TRUE(absl::StrContains(unknown_decision.output, "NOT_FOUND")) << unknown_decision.output;
  }
  // A cordoned location takes no new reservation; uncordoned, it does again.
  auto cordoned = run({"locations", "cordon", "sin-1", server, "--reason=maintenance"});
  ASSERT_EQ(cordoned.exit_code, 0) << cordoned.output;
  locations = run({"locations", "list", server});
  EXPECT_TRUE(absl::StrContains(locations.output, "maintenance")) << locations.output;
  auto refused = run({"reserve", server, "--request_id=ctl-sin", "--name=sin", "--millicores=100",
                      "--memory_mib=64", "--seed_dir=" + seed_, "--locations=sin-1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(refused.output, "cordoned")) << refused.output;
  auto unknown_location = run({"locations", "cordon", "nowhere-1", server});
  EXPECT_TRUE(absl::StrContains(unknown_location.output, "NOT_FOUND")) << unknown_location.output;
  auto uncordoned = run({"locations", "uncordon", "sin-1", server});
  ASSERT_EQ(uncordoned.exit_code, 0) << uncordoned.output;
  locations = run({"locations", "list", server});
  EXPECT_FALSE(absl::StrContains(locations.output, "maintenance")) << locations.output;

  auto released = run({"reservations", "release", id, server});
  EXPECT_EQ(released.exit_code, 0) << released.output;
  EXPECT_TRUE(absl::StrContains(released.output, "(released)")) << released.output;

  auto missing = run({"reservations", "get", "nope", server});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.output, "NOT_FOUND")) << missing.output;
  auto no_id = run({"reserve", server, "--millicores=1", "--memory_mib=1"});
  EXPECT_EQ(no_id.exit_code, 2);
  auto unknown = run({"frobnicate", server});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(unknown.output, "unknown command frobnicate"));
}

TEST_F(ReservationProcessTest, ListsArePaged) {
  std::vector<std::string> names;
  std::string token;
  do {
    grpc::ClientContext context;
    pb::ListLocationsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    pb::ListLocationsResponse response;
    ASSERT_TRUE(locations_->ListLocations(&context, request, &response).ok());
    for (const auto& l : response.locations()) names.push_back(l.name());
    token = response.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"fra-1", "iad-1", "sin-1"}));
}

}  // namespace
}  // namespace shadowplane

namespace shadowplane {
namespace {

int PutBody(const std::string& endpoint, const std::string& path, const std::string& body) {
  int port = 0;
  absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port);
  httplib::Client client(endpoint.substr(0, endpoint.rfind(':')), port);
  client.set_connection_timeout(2);
  auto res = client.Put(path.c_str(), body, "application/octet-stream");
  return res ? res->status : -1;
}

TEST_F(ReservationProcessTest, PeriodicSyncKeepsTheShadowCloseBehindAWrittenPrimary) {
  pb::ReserveRequest request = Request("sync-periodic");
  request.set_shadow_sync_interval_seconds(1);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(request, &r).ok());
  ASSERT_EQ(r.state(), "active");
  // The primary is written for a while: a new file every 250 ms, and one that keeps growing.
  std::string log;
  int last = 0;
  const absl::Time stop = absl::Now() + absl::Seconds(5);
  for (int i = 0; absl::Now() < stop; ++i) {
    ASSERT_EQ(PutBody(r.primary().endpoint(), absl::StrCat("/w/", i, ".txt"), absl::StrCat("v", i)),
              201);
    log += absl::StrCat("line ", i, "\n");
    const int put = PutBody(r.primary().endpoint(), "/app.log", log);
    ASSERT_TRUE(put == 201 || put == 204) << put;  // created, then replaced
    last = i;
    absl::SleepFor(absl::Milliseconds(250));
  }
  // A generous margin: within 20 s the shadow serves the last write, byte for byte.
  int status = 0;
  std::string body;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    body = Fetch(r.shadow().endpoint(), absl::StrCat("/w/", last, ".txt"), &status);
    if (status == 200 && Fetch(r.shadow().endpoint(), "/app.log", &status) == log) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(body, absl::StrCat("v", last));
  EXPECT_EQ(Fetch(r.shadow().endpoint(), "/app.log", &status), log);

  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_TRUE(now.has_last_synced_at());
  EXPECT_LT(now.shadow_staleness_seconds(), 20);
  EXPECT_EQ(now.last_sync_error(), "");

  pb::ListSyncRunsResponse runs;
  ASSERT_TRUE(ListSyncRuns(r.id(), 1000, &runs).ok());
  int periodic_ok = 0;
  for (const auto& run : runs.runs()) {
    periodic_ok += run.trigger() == "periodic" && run.result() == "ok";
  }
  EXPECT_GE(periodic_ok, 3) << "rounds every second for several seconds";

  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics");
  std::string metrics = testing::RunToCompletion({"/usr/bin/curl", "-sf", url}).output;
  for (const char* expected :
       {"shadowplane_sync_rounds_total{result=\"ok\",trigger=\"periodic\"}",
        "shadowplane_sync_bytes_total{kind=\"literal\"}",
        "shadowplane_sync_bytes_total{kind=\"signature\"}",
        "shadowplane_sync_duration_seconds_count{mode=\"quick\"}",
        "shadowplane_shadow_staleness_seconds_count", "shadowplane_shadow_staleness_max_seconds",
        "shadowplane_sync_scheduler_leader 1"}) {
    EXPECT_TRUE(absl::StrContains(metrics, expected)) << expected;
  }
}

TEST_F(ReservationProcessTest, SlowRoundsAreSkippedAndCountedNeverRunTwiceAtOnce) {
  pb::ReserveRequest request = Request("sync-slow");
  request.set_shadow_sync_interval_seconds(0.1);  // due at every scheduler tick
  pb::Reservation r;
  ASSERT_TRUE(Reserve(request, &r).ok());
  // 256 MiB of new data on the primary: a round that outlasts several ticks.
  const std::string data = absl::StrCat(agents_[r.primary().location()]->data_root(), "/instances/",
                                        r.primary().id(), "/data");
  {
    std::ofstream big(data + "/big.bin", std::ios::binary);
    std::string chunk(1 << 20, '\0');
    for (int i = 0; i < 256; ++i) {
      for (size_t j = 0; j < chunk.size(); j += 64) chunk[j] = static_cast<char>(i * 7 + j);
      big.write(chunk.data(), chunk.size());
    }
  }
  const std::string url = absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics");
  std::string metrics;
  bool skipped = false;
  for (int i = 0; i < 300 && !skipped; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    metrics = testing::RunToCompletion({"/usr/bin/curl", "-sf", url}).output;
    skipped = absl::StrContains(metrics, "shadowplane_sync_skipped_total ") &&
              !absl::StrContains(metrics, "shadowplane_sync_skipped_total 0\n");
  }
  EXPECT_TRUE(skipped) << metrics;
  // Wait for the big round to be recorded, then check no two rounds overlapped.
  pb::ListSyncRunsResponse runs;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(ListSyncRuns(r.id(), 1000, &runs).ok());
    bool big_done = false;
    for (const auto& run : runs.runs()) big_done |= run.bytes_literal() > (200 << 20);
    if (big_done && runs.runs_size() >= 3) break;  // and quick rounds after it
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(runs.runs_size(), 3);
  // Newest first: each round started after the one before it finished.
  for (int i = 0; i + 1 < runs.runs_size(); ++i) {
    const auto& later = runs.runs(i);
    const auto& earlier = runs.runs(i + 1);
    EXPECT_GE(google::protobuf::util::TimeUtil::TimestampToNanoseconds(later.started_at()),
              google::protobuf::util::TimeUtil::TimestampToNanoseconds(earlier.finished_at()))
        << "rounds " << earlier.id() << " and " << later.id() << " overlapped";
  }
}

TEST_F(ReservationProcessTest, SyncNowFullProvesTheShadowIdenticalAndRefusesBadInput) {
  pb::ReserveRequest request = Request("sync-now");
  pb::Reservation r;
  ASSERT_TRUE(Reserve(request, &r).ok());
  ASSERT_EQ(PutBody(r.primary().endpoint(), "/data/blob.bin", std::string(300000, 'x')), 201);

  auto sync_now = [&](const std::string& id, bool full, pb::SyncRun* run) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    pb::SyncNowRequest req;
    req.set_reservation_id(id);
    req.set_full(full);
    return sync_->SyncNow(&context, req, run);
  };
  pb::SyncRun run;
  grpc::Status s;
  // A periodic round may hold the reservation for a moment: ABORTED says so; try again.
  for (int i = 0; i < 50; ++i) {
    s = sync_now(r.id(), true, &run);
    if (s.error_code() != grpc::StatusCode::ABORTED) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(run.mode(), "checksum");
  EXPECT_EQ(run.result(), "ok");
  ASSERT_TRUE(run.has_identical());
  EXPECT_TRUE(run.identical());
  EXPECT_EQ(run.source_tree_hash(), run.target_tree_hash());
  int status = 0;
  EXPECT_EQ(Fetch(r.shadow().endpoint(), "/data/blob.bin", &status), std::string(300000, 'x'));

  EXPECT_EQ(sync_now("", false, &run).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status bad = sync_now("not-a-uuid", false, &run);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(bad.error_message(), "reservation_id")) << bad.error_message();
  EXPECT_EQ(sync_now("00000000-0000-0000-0000-000000000000", false, &run).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::ListSyncRunsResponse runs;
  EXPECT_EQ(ListSyncRuns(r.id(), 5000, &runs).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Released: nothing left to sync.
  {
    grpc::ClientContext context;
    pb::ReleaseRequest release;
    release.set_id(r.id());
    pb::Reservation released;
    ASSERT_TRUE(reservations_->Release(&context, release, &released).ok());
  }
  EXPECT_EQ(sync_now(r.id(), false, &run).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // shadowctl shows the rounds.
  auto listed = testing::RunToCompletion(
      {SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_), "--insecure", "syncs", r.id()});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "checksum")) << listed.output;
}

// Reservations steered by a real Knot DNS: Reserve points the name at the primary, Release
// removes it, and a name someone else holds fails the reservation cleanly.
class ReservationDnsTest : public ReservationProcessTest {
 protected:
  void SetUp() override {
    auto knot = testing::KnotServer::Start("svc.test.", "shadowplane");
    ASSERT_TRUE(knot.ok()) << knot.status();
    knot_ = *std::move(knot);
    secret_dir_ = testing::MakeTempDir("sp-tsig");
    std::ofstream(secret_dir_ + "/tsig.secret") << knot_->secret() << "\n";
    chmod((secret_dir_ + "/tsig.secret").c_str(), 0600);  // a key others may read is refused
    extra_flags_ = {"--traffic_provider=rfc2136", "--dns_server=" + knot_->address(),
                    "--dns_zone=svc.test.", "--dns_tsig_key_name=shadowplane",
                    "--dns_tsig_secret_file=" + secret_dir_ + "/tsig.secret"};
    ReservationProcessTest::SetUp();
  }
  std::unique_ptr<testing::KnotServer> knot_;
  std::string secret_dir_;
};

TEST_F(ReservationDnsTest, ReserveSteersTheNameToThePrimaryAndReleaseRemovesIt) {
  pb::Reservation r;
  grpc::Status status = Reserve(Request("req-dns"), &r);
  ASSERT_TRUE(status.ok()) << status.error_message() << server_->Output();
  EXPECT_EQ(r.state(), "active") << r.error();
  EXPECT_EQ(r.traffic_provider(), "rfc2136");
  EXPECT_EQ(r.service_name(), "web");
  const std::string primary_ip =
      r.primary().endpoint().substr(0, r.primary().endpoint().rfind(':'));
  EXPECT_EQ(knot_->Dig("web.svc.test."), "web.svc.test. 30 IN A " + primary_ip);

  // A name someone else holds: the reservation fails and is rolled back; the name is untouched.
  const testing::RunResult taken = testing::RunToCompletion(
      {"/bin/sh", "-c",
       absl::StrCat("printf 'server 127.0.0.1 ", knot_->port(),
                    "\\nzone svc.test.\\nupdate add taken.svc.test. 30 A 127.0.0.99\\nsend\\n' | "
                    "/usr/bin/knsupdate -y hmac-sha256:shadowplane:",
                    knot_->secret())});
  ASSERT_EQ(taken.exit_code, 0) << taken.output;
  pb::ReserveRequest clash = Request("req-clash");
  clash.set_service_name("taken");
  pb::Reservation failed;
  status = Reserve(clash, &failed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "127.0.0.99")) << status.error_message();
  EXPECT_EQ(knot_->Dig("taken.svc.test."), "taken.svc.test. 30 IN A 127.0.0.99");
  // A service name outside the zone: INVALID_ARGUMENT naming it, and nothing is left running.
  pb::ReserveRequest outside = Request("req-outside");
  outside.set_service_name("shop.elsewhere.example.");
  pb::Reservation refused;
  status = Reserve(outside, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "service_name")) << status.error_message();

  grpc::ClientContext context;
  pb::ReleaseRequest release;
  release.set_id(r.id());
  pb::Reservation released;
  ASSERT_TRUE(reservations_->Release(&context, release, &released).ok());
  EXPECT_EQ(released.state(), "released");
  EXPECT_EQ(knot_->Dig("web.svc.test."), "");
}

TEST(ReservationTrafficFlagsTest, AnUnusableTrafficProviderStopsTheServerWithTheFlagNamed) {
  for (const auto& [flags, expected] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--traffic_provider=carrier-pigeon"}, "unknown traffic provider"},
           {{"--traffic_provider=rfc2136", "--dns_zone=svc.test."}, "dns_server"},
           {{"--traffic_provider=haproxy"}, "haproxy_socket"},
           {{"--traffic_provider=rfc2136", "--dns_server=127.0.0.1:53", "--dns_zone=svc.test.",
             "--dns_tsig_key_name=k", "--dns_tsig_secret_file=/nonexistent/secret"},
            "dns_tsig_secret_file"}}) {
    std::vector<std::string> argv = {SHADOWPLANE_BIN, "--listen=127.0.0.1:0",
                                     "--metrics_listen=127.0.0.1:0",
                                     "--database_url=postgresql://127.0.0.1:1/none", "--insecure"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const testing::RunResult r = testing::RunToCompletion(argv, {}, absl::Seconds(30));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, expected)) << expected << "\n" << r.output;
  }
  // A TSIG key others may read is refused, and its bytes appear nowhere.
  const std::string dir = testing::MakeTempDir("sp-tsig-open");
  std::ofstream(dir + "/tsig.secret") << "c2hhZG93cGxhbmUtdHNpZy1rZXk=\n";
  chmod((dir + "/tsig.secret").c_str(), 0644);
  const testing::RunResult open = testing::RunToCompletion(
      {SHADOWPLANE_BIN, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
       "--database_url=postgresql://127.0.0.1:1/none", "--insecure", "--traffic_provider=rfc2136",
       "--dns_server=127.0.0.1:53", "--dns_zone=svc.test.", "--dns_tsig_key_name=k",
       "--dns_tsig_secret_file=" + dir + "/tsig.secret"},
      {}, absl::Seconds(30));
  EXPECT_NE(open.exit_code, 0) << open.output;
  EXPECT_TRUE(absl::StrContains(open.output, "chmod o-rw")) << open.output;
  EXPECT_FALSE(absl::StrContains(open.output, "c2hhZG93cGxhbmUtdHNpZy1rZXk")) << open.output;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace shadowplane
