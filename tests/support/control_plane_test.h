// A control plane for end-to-end tests: a fresh database, three agents in three regions
// (Frankfurt, Ashburn, Singapore; Ashburn is cheapest) and the shadowplane server, with a
// reservation's seed directory and clients for the public API.
#ifndef SHADOWPLANE_TESTS_SUPPORT_CONTROL_PLANE_TEST_H_
#define SHADOWPLANE_TESTS_SUPPORT_CONTROL_PLANE_TEST_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/transport_security.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "support/agent_under_test.h"
#include "support/child_process.h"
#include "support/test_database.h"

namespace shadowplane::testing {

struct Site {
  const char* location;
  const char* region;
  double latitude, longitude, vcpu_price;
};
inline constexpr Site kSites[] = {{"fra-1", "eu-central", 50.11, 8.68, 0.048},
                                  {"iad-1", "us-east", 39.04, -77.49, 0.040},
                                  {"sin-1", "ap-southeast", 1.35, 103.82, 0.052}};

class ControlPlaneTest : public DatabaseTest {
 protected:
  // Starts the agents, then the server with `extra_flags_` (set them before).
  void SetUp() override;
  void TearDown() override;
  // Starts the server (again, on the same ports and database; `env` entries "NAME=value" added to
  // its environment) and connects the stubs; the old process, if any, must be gone.
  void StartServer(const std::vector<std::string>& env);
  // Points the stubs at the server on `port` (waiting until it serves).
  void Connect(int port);
  // The server's command line on these ports (another replica on the same database: other ports).
  std::vector<std::string> ServerArgv(int port, int metrics_port) const;
  // Called after every StartServer(): fixtures make their own stubs here.
  virtual void OnServerStarted() {}
  // The flags of the agent at `location`: agent_flags_ unless a fixture says otherwise.
  virtual std::vector<std::string> AgentFlags(const std::string& location) { return agent_flags_; }

  // A reservation of the seed: 1000 millicores and 512 MiB, named "web".
  shadowplane::v1::ReserveRequest Request(const std::string& request_id);
  grpc::Status Reserve(const shadowplane::v1::ReserveRequest& request,
                       shadowplane::v1::Reservation* out);
  grpc::Status GetReservation(const std::string& id, shadowplane::v1::Reservation* out);

  // GET (waiting out the instance's rate limit) or PUT at an instance's endpoint (host:port); the
  // status, -1 when there was no answer.
  static std::string Fetch(const std::string& endpoint, const std::string& path, int* status);
  static int Put(const std::string& endpoint, const std::string& path,
                 const std::string& body = "new");

  std::string root_, seed_;
  std::vector<std::string> extra_flags_;
  std::vector<std::string> agent_flags_;  // every agent's, set before SetUp
  std::vector<std::string> server_env_;   // for the first server, "NAME=value"
  // Sent as `authorization: Bearer` by Reserve and GetReservation when set.
  std::string caller_token_;
  std::string extra_catalog_yaml_;  // appended to the locations file (set before SetUp)
  // Set before SetUp: everything speaks TLS with certificates of a CA made in tls_dir_ (an agent
  // certificate per site, a client one named "alice"), and the server authenticates callers: an
  // admin token (caller_token_) and alice's certificate (a viewer) in root_/tokens.yaml. Else
  // plaintext.
  bool tls_ = false;
  std::string tls_dir_;
  // With tls_: appended to tokens.yaml as it is (more `tokens:` entries, then `teams:`).
  std::string tokens_yaml_tail_;
  std::shared_ptr<const TransportSecurity> client_transport_;  // the test's, towards the server
  int port_ = 0, metrics_port_ = 0;
  std::map<std::string, std::unique_ptr<AgentUnderTest>> agents_;
  std::unique_ptr<ChildProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<shadowplane::v1::LocationService::Stub> locations_;
  std::unique_ptr<shadowplane::v1::ReservationService::Stub> reservations_;
  std::unique_ptr<shadowplane::v1::SyncService::Stub> sync_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_CONTROL_PLANE_TEST_H_
