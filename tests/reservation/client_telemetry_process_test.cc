// Client telemetry end to end (label e2e): PostgreSQL, the server and three agent processes.
// The agents ship what their instances recorded of every request, and the instances' utilization,
// to the control plane by themselves.
// Releasing with purge_telemetry: two reservations' clients are recorded; releasing one with the
// purge deletes its access log,
// utilization, hourly demand and client affinity and nothing of the other's; its events are
// refused from then on; a row stored late (as by a replica that had not yet reloaded) is deleted
// by the purge that follows once every replica refuses them; shadowctl asks for it; bad requests
// get the right status and change nothing.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

class ClientTelemetryProcessTest : public testing::ControlPlaneTest {
 protected:
  void SetUp() override {
    // The purge that counts as the last comes 2 x 0.2 s + 0.2 s + 1 s + 5 s after the request.
    extra_flags_ = {"--telemetry_refresh_interval=200ms", "--affinity_flush_interval=200ms",
                    "--ingest_commit_deadline=1s"};
    agent_flags_ = {"--access_poll_interval=200ms", "--utilization_interval=500ms"};
    ControlPlaneTest::SetUp();
  }
  void OnServerStarted() override { telemetry_ = pb::TelemetryService::NewStub(channel_); }

  // Ten accesses from two clients, and a utilization sample of the primary; the acknowledgement.
  pb::BatchAck Record(const pb::Reservation& r, const std::string& batch_id) {
    pb::AccessBatch batch;
    batch.set_batch_id(batch_id);
    // All in one past hour: one demand row.
    const int64_t hour = (absl::ToUnixSeconds(absl::Now()) / 3600 - 2) * 3600;
    for (int i = 0; i < 10; ++i) {
      pb::AccessEvent* e = batch.add_events();
      e->mutable_time()->set_seconds(hour + i);
      e->set_client_ip(absl::StrCat("192.0.2.", 10 + i % 2));
      e->set_client_id(absl::StrCat("client-", i % 2));
      e->set_resource_id(r.resource_id());
      e->set_instance_id(r.primary().id());
      e->set_request_type("GET");
      e->set_bytes_out(1000);
      e->set_origin_region("us-east");
    }
    pb::UtilizationSample* s = batch.add_samples();
    s->mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 5);
    s->set_instance_id(r.primary().id());
    s->mutable_interval()->set_seconds(10);
    s->set_cpu_seconds(0.5);
    s->set_memory_bytes(1 << 20);
    grpc::ClientContext context;
    pb::BatchAck ack;
    EXPECT_TRUE(telemetry_->RecordAccessBatch(&context, batch, &ack).ok());
    return ack;
  }

  // Rows of the resource in each telemetry table: access log, utilization, demand, affinity.
  std::vector<int64_t> Rows(const pb::Reservation& r) {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    std::vector<int64_t> out;
    for (const char* query :
         {"SELECT count(*) FROM client_access_log WHERE resource_id = $1::uuid",
          // The test's own samples (10 s intervals): the agents ship theirs every 500 ms on
          // their own schedule, which would make the counts depend on timing.
          "SELECT count(*) FROM instance_utilization WHERE resource_id = $1::uuid AND "
          "interval_seconds = 10",
          "SELECT count(*) FROM demand_hourly WHERE resource_id = $1::uuid",
          "SELECT count(*) FROM client_affinity WHERE resource_id = $1::uuid"}) {
      out.push_back(txn.exec_params1(query, r.resource_id())[0].as<int64_t>());
    }
    return out;
  }

  // Every utilization sample of the reservation's resource, the agents' too.
  int64_t AllUtilization(const pb::Reservation& r) {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    return txn
        .exec_params1("SELECT count(*) FROM instance_utilization WHERE resource_id = $1::uuid",
                      r.resource_id())[0]
        .as<int64_t>();
  }

  grpc::Status Release(const std::string& id, bool purge, pb::Reservation* out) {
    grpc::ClientContext context;
    pb::ReleaseRequest request;
    request.set_id(id);
    request.set_purge_telemetry(purge);
    return reservations_->Release(&context, request, out);
  }

  std::unique_ptr<pb::TelemetryService::Stub> telemetry_;
};

// Requests straight to the primary (as a client with a cached DNS answer sends them): its agent
// reads them from the instance's access log and ships them, with utilization samples of both
// instances, and the control plane stores each request once.
TEST_F(ClientTelemetryProcessTest, TheAgentsShipTheirInstancesAccessesAndUtilization) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("shipped"), &r).ok()) << server_->Output();
  const std::string primary = r.primary().endpoint();
  const size_t colon = primary.rfind(':');
  httplib::Client client(primary.substr(0, colon), std::stoi(primary.substr(colon + 1)));
  int answered = 0;
  for (int i = 0; i < 40; ++i) {
    auto res = i % 4 == 0 ? client.Put(absl::StrCat("/shipped-", i), "body", "text/plain")
                          : client.Get("/index.html");
    if (res) ++answered;  // a refusal over the request rate is an access too
  }
  ASSERT_EQ(answered, 40);
  auto count = [&](const std::string& sql) {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    return txn.exec_params1(sql, r.resource_id())[0].as<int64_t>();
  };
  const std::string accesses =
      "SELECT count(*) FROM client_access_log WHERE resource_id = $1::uuid";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (count(accesses) < answered && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::SleepFor(absl::Milliseconds(600));  // and no more come
  EXPECT_EQ(count(accesses), answered);
  EXPECT_EQ(count("SELECT count(*) FROM client_access_log WHERE resource_id = $1::uuid AND "
                  "request_type = 'PUT' AND bytes_in > 0 AND bytes_out > 0"),
            10);
  EXPECT_EQ(count("SELECT sum(requests) FROM demand_hourly WHERE resource_id = $1::uuid"),
            answered);
  // Utilization of both instances, from their processes (memory) and their connections (bytes).
  while (count("SELECT count(DISTINCT instance_id) FROM instance_utilization WHERE resource_id = "
               "$1::uuid AND memory_bytes > 0") < 2 &&
         absl::Now() < deadline + absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(count("SELECT count(DISTINCT instance_id) FROM instance_utilization WHERE "
                  "resource_id = $1::uuid AND memory_bytes > 0"),
            2);
  EXPECT_GT(count("SELECT coalesce(sum(net_bytes_in), 0) FROM instance_utilization WHERE "
                  "resource_id = $1::uuid"),
            0);
}

TEST_F(ClientTelemetryProcessTest, ReleaseDeletesTheResourcesTelemetryAndNothingElse) {
  pb::Reservation kept, purged;
  ASSERT_TRUE(Reserve(Request("keep"), &kept).ok());
  pb::ReserveRequest second = Request("purge");
  second.set_name("shop");
  ASSERT_TRUE(Reserve(second, &purged).ok()) << server_->Output();
  for (const pb::Reservation* r : {&kept, &purged}) {
    const pb::BatchAck ack = Record(*r, "first-" + r->id());
    ASSERT_EQ(ack.events_accepted(), 10) << ack.DebugString();
    ASSERT_EQ(ack.samples_accepted(), 1) << ack.DebugString();
  }
  // Affinity is written by a flush (every 200 ms here).
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((Rows(kept)[3] < 2 || Rows(purged)[3] < 2) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::vector<int64_t> kept_rows = Rows(kept);
  ASSERT_EQ(kept_rows, (std::vector<int64_t>{10, 1, 1, 2}));
  ASSERT_EQ(Rows(purged), kept_rows);

  // Bad requests: nothing asked for, nothing deleted.
  pb::Reservation out;
  EXPECT_EQ(Release("", true, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Release("00000000-0000-0000-0000-000000000000", true, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Release("not-a-reservation", true, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Rows(purged), kept_rows);

  // Released with the purge, through shadowctl: the first purge ran before the answer.
  const absl::Time asked = absl::Now();
  const testing::RunResult released = testing::RunToCompletion(
      {SHADOWCTL_BIN, "reservations", "release", purged.id(), "--purge_telemetry",
       absl::StrCat("--server=127.0.0.1:", port_), "--insecure"});
  ASSERT_EQ(released.exit_code, 0) << released.output;
  EXPECT_TRUE(absl::StrContains(released.output, "(released)")) << released.output;
  EXPECT_TRUE(absl::StrContains(released.output, "telemetry: purge asked for at"))
      << released.output;
  EXPECT_TRUE(absl::StrContains(released.output, ", purged at")) << released.output;
  EXPECT_EQ(Rows(purged), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(AllUtilization(purged), 0) << "the agents' samples too";
  EXPECT_EQ(Rows(kept), kept_rows) << "another resource's telemetry is untouched";
  ASSERT_TRUE(GetReservation(purged.id(), &out).ok());
  ASSERT_TRUE(out.has_telemetry_purged_at());
  const absl::Time first_purge = absl::FromUnixMillis(
      google::protobuf::util::TimeUtil::TimestampToMilliseconds(out.telemetry_purged_at()));
  EXPECT_GE(first_purge, asked - absl::Seconds(1));

  // Its events are refused from now on (an agent's spooled batch, say); the other's are taken.
  pb::BatchAck late = Record(purged, "late");
  EXPECT_EQ(late.events_accepted(), 0) << late.DebugString();
  EXPECT_EQ(late.samples_accepted(), 0) << late.DebugString();
  std::map<std::string, int64_t> refused;
  for (const pb::Rejection& j : late.rejections()) refused[j.reason()] = j.count();
  EXPECT_EQ(refused["unknown_resource"], 10) << late.DebugString();
  EXPECT_EQ(refused["unknown_instance"], 1) << "the utilization sample";
  EXPECT_EQ(Record(kept, "second").events_accepted(), 10);

  // A row stored after the first purge (accepted by a replica that had not reloaded yet) goes
  // with the purges that follow, every refresh interval until one runs once every replica refuses
  // the resource's events; then they stop.
  {
    pqxx::connection conn(db_->url());
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO client_affinity (resource_id, client_key, origin_region, last_seen) VALUES "
        "($1::uuid, 'id:late', 'us-east', now())",
        purged.resource_id());
    txn.commit();
  }
  auto purged_at = [&] {
    pb::Reservation now;
    EXPECT_TRUE(GetReservation(purged.id(), &now).ok());
    return absl::FromUnixMillis(
        google::protobuf::util::TimeUtil::TimestampToMilliseconds(now.telemetry_purged_at()));
  };
  const absl::Time requested =
      absl::FromUnixMillis(google::protobuf::util::TimeUtil::TimestampToMilliseconds(
          out.telemetry_purge_requested_at()));
  const absl::Duration settle = absl::Milliseconds(2 * 200 + 200 + 1000 + 5000);
  deadline = absl::Now() + absl::Seconds(30);
  while (purged_at() < requested + settle && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  const absl::Time last_purge = purged_at();
  EXPECT_GE(last_purge, requested + settle) << "the settled purge is recorded";
  EXPECT_EQ(Rows(purged), (std::vector<int64_t>{0, 0, 0, 0}));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(purged_at(), last_purge) << "no purge after the settled one";

  // Released without the purge: its telemetry stays. Asking later purges a released one too.
  ASSERT_TRUE(Release(kept.id(), false, &out).ok());
  EXPECT_FALSE(out.has_telemetry_purge_requested_at());
  EXPECT_EQ(Rows(kept)[0], 20);
  ASSERT_TRUE(Release(kept.id(), true, &out).ok());
  EXPECT_TRUE(out.has_telemetry_purged_at());
  EXPECT_EQ(Rows(kept), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_TRUE(absl::StrContains(server_->Output(), "reservation telemetry purged"));
}

}  // namespace
}  // namespace shadowplane
