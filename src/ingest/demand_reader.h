// GetDemand: a resource's demand per origin region over a time range, hourly or daily, from the
// hourly rollups. Every bucket of the range is present (zeros where nothing was recorded), and
// distinct clients of a day, or of all regions, come from merged sketches, never from adding
// hourly estimates (a client seen in two hours counts once). Thread-safe.
#ifndef SHADOWPLANE_INGEST_DEMAND_READER_H_
#define SHADOWPLANE_INGEST_DEMAND_READER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "store/telemetry_repository.h"

namespace shadowplane::ingest {

struct DemandQuery {
  std::string resource_id;
  std::optional<absl::Time> from;        // default: 48 hours before `to`
  std::optional<absl::Time> to;          // default: now
  absl::Duration step = absl::Hours(1);  // an hour or a day
};

struct DemandPoint {
  absl::Time start;
  store::DemandSums sums;
  int64_t distinct_clients = 0;
};

struct DemandSeries {
  std::string origin_region;  // "total" for all regions together
  std::vector<DemandPoint> points;
};

struct Demand {
  std::string resource_id;
  absl::Time from;  // the range, widened to whole buckets
  absl::Time to;
  absl::Duration step;
  std::vector<DemandSeries> regions;  // by origin region
  DemandSeries total;
};

class DemandReader {
 public:
  // `max_points`: buckets per series at most (INVALID_ARGUMENT beyond).
  DemandReader(store::TelemetryRepository* repository, const Clock* clock, int max_points)
      : repository_(repository), clock_(clock), max_points_(max_points) {}

  // INVALID_ARGUMENT naming the field (resource_id missing or not a UUID, from not before to, a
  // step other than an hour or a day, too many buckets), NOT_FOUND for an unknown resource.
  absl::StatusOr<Demand> Read(const DemandQuery& query) const;

 private:
  store::TelemetryRepository* const repository_;
  const Clock* const clock_;
  const int max_points_;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_DEMAND_READER_H_
