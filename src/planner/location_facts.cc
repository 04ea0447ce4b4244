#include "planner/location_facts.h"

#include "planner/spot_prices.h"

namespace shadowplane::planner {

CatalogFacts FactsOf(const store::LocationCatalog& catalog) {
  CatalogFacts facts;
  for (const auto& r : catalog.regions) facts.regions[r.name] = {r.name, {r.latitude, r.longitude}};
  for (const auto& l : catalog.locations) {
    LocationFacts f;
    f.name = l.name;
    f.region = l.region;
    f.at = {l.latitude, l.longitude};
    f.on_demand_price_per_vcpu_hour = l.on_demand_price_per_vcpu_hour;
    f.on_demand_price_per_gib_hour = l.on_demand_price_per_gib_hour;
    f.spot_price_per_vcpu_hour = l.spot_price_per_vcpu_hour;
    f.spot_price_per_gib_hour = l.spot_price_per_gib_hour;
    f.spot_availability = l.spot_availability;
    f.electricity_price_per_kwh = l.electricity_price_per_kwh;
    f.power_draw_watts_per_vcpu = l.power_draw_watts_per_vcpu;
    f.bandwidth_price_per_gb = l.bandwidth_price_per_gb;
    f.capacity_millicores = l.capacity_millicores;
    f.capacity_memory_mib = l.capacity_memory_mib;
    f.used_millicores = l.used_millicores;
    f.used_memory_mib = l.used_memory_mib;
    f.cordoned = l.cordoned;
    f.lost = l.lost_at.has_value();
    if (auto prices = catalog.prices.find(l.name); prices != catalog.prices.end()) {
      ApplyPriceHistory(prices->second, &f);
    }
    facts.locations[l.name] = f;
  }
  return facts;
}

}  // namespace shadowplane::planner
