#include "geo/distance.h"

#include <algorithm>
#include <cmath>

namespace shadowplane::geo {

namespace {
constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kPi = 3.14159265358979323846;
double Radians(double degrees) { return degrees * kPi / 180.0; }
}  // namespace

double GreatCircleKm(const Coordinates& a, const Coordinates& b) {
  const double dlat = Radians(b.latitude - a.latitude);
  const double dlon = Radians(b.longitude - a.longitude);
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(Radians(a.latitude)) * std::cos(Radians(b.latitude)) *
                       std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

void RttModel::SetMeasured(const std::string& region, const std::string& location, double rtt_ms) {
  measured_[{region, location}] = rtt_ms;
}

double RttModel::RttMs(const std::string& region, const Coordinates& region_at,
                       const std::string& location, const Coordinates& location_at) const {
  if (auto it = measured_.find({region, location}); it != measured_.end()) return it->second;
  return floor_ms_ + GreatCircleKm(region_at, location_at) / 100.0 * ms_per_100km_;
}

}  // namespace shadowplane::geo
