// Distances and round-trip-time estimates between places on Earth.
#ifndef SHADOWPLANE_GEO_DISTANCE_H_
#define SHADOWPLANE_GEO_DISTANCE_H_

#include <map>
#include <string>
#include <utility>

namespace shadowplane::geo {

struct Coordinates {
  double latitude = 0;   // degrees, -90..90
  double longitude = 0;  // degrees, -180..180
};

// Great-circle distance (haversine, mean Earth radius 6371.0088 km).
double GreatCircleKm(const Coordinates& a, const Coordinates& b);

// Estimates the round-trip time between a client region and a location: `ms_per_100km` of
// distance (about 1 ms per 100 km of fibre: light in glass covers ~200 km per ms one way, and
// fibre routes are longer than great circles), plus a fixed floor, unless an operator measured it.
// Not thread-safe to modify; const use is.
class RttModel {
 public:
  explicit RttModel(double ms_per_100km = 1.0, double floor_ms = 1.0)
      : ms_per_100km_(ms_per_100km), floor_ms_(floor_ms) {}

  // A measured RTT between `region` and `location`, which wins over the estimate.
  void SetMeasured(const std::string& region, const std::string& location, double rtt_ms);

  double RttMs(const std::string& region, const Coordinates& region_at, const std::string& location,
               const Coordinates& location_at) const;

 private:
  double ms_per_100km_;
  double floor_ms_;
  std::map<std::pair<std::string, std::string>, double> measured_;
};

}  // namespace shadowplane::geo

#endif  // SHADOWPLANE_GEO_DISTANCE_H_
