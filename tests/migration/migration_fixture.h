// A control plane with HAProxy in front of the resources ("web" and "big") and the migration API,
// for the migration end-to-end tests, with a client that writes through HAProxy.
#ifndef SHADOWPLANE_TESTS_MIGRATION_MIGRATION_FIXTURE_H_
#define SHADOWPLANE_TESTS_MIGRATION_MIGRATION_FIXTURE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/planner.grpc.pb.h"
#include "support/control_plane_test.h"
#include "support/traffic_servers.h"

namespace shadowplane::testing {

// Data per test resource: small by default so the suite stays fast; the write-freeze figure for a
// larger resource comes from SHADOWPLANE_MIGRATION_DATA_MB=512.
int DataMiB();
// Writes `mib` MiB of incompressible data in 1 MiB files under `dir`/blobs.
void WriteData(const std::string& dir, int mib);

// What the writing client saw.
struct WriterLog {
  int requests = 0, failures = 0;
  std::map<std::string, std::string> acknowledged;     // path -> body
  std::map<std::string, std::string> acknowledged_by;  // path -> answering instance, or forwarded
  std::vector<std::string> failure_details;
  // Acknowledged writes by the instance that answered ("forwarded" when the old one passed it on).
  std::map<std::string, int> answered_by;
  // How long each write took as the client saw it (connection included), and when it started, in
  // order.
  std::vector<absl::Duration> latencies;
  std::vector<absl::Time> starts;

  absl::Duration Max() const;
  // The longest of the writes in progress at some moment of [from, to] (`overlapping`), or of the
  // others; with how many there were.
  absl::Duration MaxAround(absl::Time from, absl::Time to, bool overlapping, int* count) const;
  // The q-quantile (0..1) of `latencies`, nearest rank.
  absl::Duration Quantile(double q) const;
};

// PUTs small files through `port` (HAProxy's frontend) until `stop`: on one kept-alive
// connection, or (`keep_alive` false) on a new connection each, which HAProxy routes afresh. A
// write unanswered after `timeout` is a failure (it may still be applied later).
void RunWriter(int port, const std::atomic<bool>& stop, WriterLog* log, bool keep_alive = true,
               absl::Duration timeout = absl::Seconds(60));

// The newest of `resource_id`'s decisions with `outcome` that started a migration, asked for
// every half second up to a minute; an empty decision when none came.
shadowplane::v1::Decision WaitForDecisionWithMigration(
    shadowplane::v1::PlannerService::Stub* planner, const std::string& resource_id,
    const std::string& outcome);

class MigrationTest : public ControlPlaneTest {
 protected:
  // HAProxy, then the agents and the server with `flags_` (tests may change them before).
  void SetUp() override;
  void OnServerStarted() override;

  grpc::Status Migrate(const std::string& request_id, const std::string& reservation,
                       const std::string& to, shadowplane::v1::Migration* out,
                       const std::string& kind = "", const std::string& capacity_type = "");
  // An emergency promotion of a primary that was just lost: refused (FAILED_PRECONDITION) while
  // its last write lease may still hold, so asked again until the lease ran out (at most
  // `patience`); the time it took in `*waited` when not null.
  grpc::Status MigrateLostPrimary(const std::string& request_id, const std::string& reservation,
                                  shadowplane::v1::Migration* out, absl::Duration* waited = nullptr,
                                  absl::Duration patience = absl::Seconds(30));
  grpc::Status GetMigration(const std::string& id, shadowplane::v1::Migration* out);
  // The reservation's own planner mode (UpdateReservation's planner.mode): "auto" lets the loop
  // move it by itself.
  grpc::Status SetPlannerMode(const std::string& reservation_id, const std::string& mode);
  // Follows WatchMigration to the end; the states seen, in order.
  std::vector<std::string> Watch(const std::string& id, shadowplane::v1::Migration* last);
  // The states the migration went through, from its events.
  static std::string StatesOf(const shadowplane::v1::Migration& m);
  // HAProxy's own view of the "web" backend (show servers state).
  std::string HaproxyTarget();

  std::string haproxy_backend_options_;  // set before SetUp
  std::unique_ptr<HaproxyServer> haproxy_;
  std::unique_ptr<shadowplane::v1::MigrationService::Stub> migrations_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_MIGRATION_MIGRATION_FIXTURE_H_
