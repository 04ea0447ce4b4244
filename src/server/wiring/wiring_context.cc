#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

geo::RttModel PlacementRtt(const PlacementSettings& placement, const WiringContext& context) {
  geo::RttModel rtt(placement.rtt_ms_per_100km);
  if (context.catalog != nullptr && context.catalog->has_value()) {
    for (const auto& m : (*context.catalog)->measured_rtts) {
      rtt.SetMeasured(m.region, m.location, m.rtt_ms);
    }
  }
  return rtt;
}

}  // namespace shadowplane::server
