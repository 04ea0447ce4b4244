// Fuzzes the validation of public API requests that needs no database: each input is one request
// message (selected by the first byte, parsed from the rest) given to the same validation its
// handler runs first: the check of every string for a NUL (common/request_text.h, run on every
// unary request), the mappings from proto (api/*_mapping.h) with the checks behind them,
// catalog names, regions and agent endpoints, capacities, quantile lists and write-lease
// renewals. A bad request must come back as a status, never a crash or an exception.
// Not covered here: the checks that handlers run against the database (reservations,
// migrations), which the API tests exercise with bad input.
#include <cstdint>
#include <string>

#include "api/event_mapping.h"
#include "api/forecast_mapping.h"
#include "api/planner_mapping.h"
#include "api/telemetry_mapping.h"
#include "api/write_lease_service.h"
#include "catalog/catalog.h"
#include "common/capacity.h"
#include "common/request_text.h"
#include "forecast/intervals.h"
#include "shadowplane/v1/locations.pb.h"
#include "shadowplane/v1/reservations.pb.h"

namespace {

namespace pb = shadowplane::v1;

template <typename Message>
bool Parse(const std::string& bytes, Message* m) {
  if (!m->ParseFromString(bytes)) return false;
  (void)shadowplane::CheckRequestText(*m);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace shadowplane;
  switch (data[0] % 10) {
    case 0: {
      pb::RegisterEventRequest r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 1: {
      pb::ListEventsRequest r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 2: {
      pb::PlanRequest r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 3: {
      pb::PlannerOverrides r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 4: {
      pb::ListDecisionsRequest r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 5: {
      pb::GetDemandRequest r;
      if (Parse(bytes, &r)) (void)api::FromProto(r);
      break;
    }
    case 6: {
      pb::AccessBatch r;
      if (Parse(bytes, &r)) (void)api::FromProto(std::move(r));
      break;
    }
    case 7: {
      pb::PredictRequest r;
      if (Parse(bytes, &r)) {
        const forecast::PredictQuery q = api::FromProto(r);
        (void)forecast::CheckQuantiles(q.quantiles);
      }
      break;
    }
    case 8: {
      agent::v1::RenewWriteLeasesRequest r;
      if (Parse(bytes, &r)) (void)api::ValidateRenewal(r);
      break;
    }
    case 9: {
      pb::ReserveRequest r;
      if (!Parse(bytes, &r)) break;
      (void)catalog::ValidateName(r.name(), "name");
      (void)catalog::ValidateAgentEndpoint(r.seed_dir());
      Capacity c;
      c.millicores = r.millicores();
      c.memory_mib = r.memory_mib();
      (void)ValidateCapacity(c, "capacity");
      store::RegionRecord region;
      region.name = r.request_id();
      region.latitude = r.shadow_capacity_fraction();
      region.longitude = r.shadow_sync_interval_seconds();
      (void)catalog::ValidateRegion(region);
      break;
    }
  }
  return 0;
}
