// What `shadowctl loadgen` sends, decided before anything is sent: a per-region hourly demand
// trace (the pinned synthetic global trace, or a folder of EIA-format files) replayed at a time
// scale, each request from its region's own client addresses (a CIDR per region, e.g.
// 127.100.0.0/16 on loopback, which the locations file's `networks:` maps to that region, so the
// server resolves origins by the real lookup path).
//
// Deterministic for a seed: the same trace, hours and settings give the same requests, at the
// same offsets, from the same addresses.
#ifndef SHADOWPLANE_CLI_LOAD_PLAN_H_
#define SHADOWPLANE_CLI_LOAD_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::cli {

// Requests per region and hour.
struct LoadTrace {
  absl::Time start;  // the first hour
  std::vector<std::string> regions;
  std::vector<std::vector<double>> demand;  // [region][hour]
  std::vector<std::string> files;           // [region]: the file it was read from (a folder's)
  int hours() const { return demand.empty() ? 0 : static_cast<int>(demand[0].size()); }
};

// "synthetic": forecast::DefaultTraceProfile; otherwise a folder with one <REGION>.csv per region
// in the EIA format. INVALID_ARGUMENT naming the file and line for a missing hour, a negative or
// non-numeric value, or files that do not cover the same hours; NOT_FOUND naming the folder when
// it is absent or holds no .csv file.
absl::StatusOr<LoadTrace> ReadLoadTrace(const std::string& source);

// The locations file's `networks:` (CIDR -> region), read as the server reads them:
// region -> its first IPv4 network. INVALID_ARGUMENT naming the entry for a malformed one.
absl::StatusOr<std::map<std::string, std::string>> ReadRegionNetworks(const std::string& path);

struct LoadPlanOptions {
  int from_hour = 0;  // of the trace
  int hours = 24;
  double requests_per_unit = 0.05;  // a trace value times this is requests in that hour
  double time_scale = 1800;         // trace seconds per real second (an hour per 2 s)
  double write_share = 0.1;         // PUTs among the requests
  int clients_per_region = 50;      // distinct client addresses per region
  int64_t max_requests = 100000;
  uint64_t seed = 20261207;
};

struct PlannedRequest {
  absl::Duration at;  // from the start of the run
  int region = 0;     // index into LoadTrace::regions
  std::string source_address;
  int client = 0;
  bool write = false;
  int hour = 0;  // of the trace
};

struct LoadPlan {
  std::vector<PlannedRequest> requests;  // by `at`
  absl::Duration duration;               // the replayed hours, in real time
  // Per region: requests planned per trace hour (what GetDemand should show, failures aside).
  std::vector<std::vector<int64_t>> per_hour;
};

// INVALID_ARGUMENT naming the setting for one out of range, a region without a network (naming
// it), a network without room for the clients, or a plan above max_requests.
absl::StatusOr<LoadPlan> PlanLoad(const LoadTrace& trace,
                                  const std::map<std::string, std::string>& networks,
                                  const LoadPlanOptions& options);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_LOAD_PLAN_H_
