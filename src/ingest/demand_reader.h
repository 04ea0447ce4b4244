// GetDemand: a resource's demand per origin region over a time range, hourly or daily, from the
// hourly rollups. Every bucket of the range is present (zeros where nothing was recorded), and
// distinct clients of a day, or of all regions, come from merged sketches, never from adding
// hourly estimates (a client seen in two hours counts once). Thread-safe.
#ifndef SHADOWPLANE_INGEST_DEMAND_READER_H_
#define SHADOWPLANE_INGEST_DEMAND_READER_H_

#include "absl/status/status.h"
#include "common/clock.h"
#include "shadowplane/v1/telemetry.pb.h"
#include "store/telemetry_repository.h"

namespace shadowplane::ingest {

class DemandReader {
 public:
  // `max_points`: buckets per series at most (INVALID_ARGUMENT beyond).
  DemandReader(store::TelemetryRepository* repository, const Clock* clock, int max_points)
      : repository_(repository), clock_(clock), max_points_(max_points) {}

  // INVALID_ARGUMENT naming the field (resource_id missing or not a UUID, from not before to,
  // unknown granularity, too many buckets), NOT_FOUND for an unknown resource.
  absl::Status Read(const shadowplane::v1::GetDemandRequest& request,
                    shadowplane::v1::GetDemandResponse* response) const;

 private:
  store::TelemetryRepository* const repository_;
  const Clock* const clock_;
  const int max_points_;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_DEMAND_READER_H_
