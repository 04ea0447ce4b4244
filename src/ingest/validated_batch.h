// A batch after validation: what to store, what its acknowledgement says, and its demand
// already summed per (resource, origin region, hour), ready to be merged with other batches'.
#ifndef SHADOWPLANE_INGEST_VALIDATED_BATCH_H_
#define SHADOWPLANE_INGEST_VALIDATED_BATCH_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "store/access_log_store.h"
#include "store/demand_sums.h"

namespace shadowplane::ingest {

struct DemandKey {
  std::string resource_id;
  std::string origin_region;
  absl::Time hour;
  bool operator<(const DemandKey& o) const {
    return std::tie(resource_id, origin_region, hour) <
           std::tie(o.resource_id, o.origin_region, o.hour);
  }
};

// Sums of one hour of one region's demand; distinct clients as sketch hashes (turned into a
// sketch once per commit, not per batch).
struct DemandCell {
  store::DemandSums sums;
  std::vector<uint64_t> client_hashes;

  void Add(const DemandCell& o) {
    sums.Add(o.sums);
    client_hashes.insert(client_hashes.end(), o.client_hashes.begin(), o.client_hashes.end());
  }
};

struct ValidatedBatch {
  std::string batch_id;
  // For client_access_log (their demand is in `demand` too).
  std::vector<store::AccessRow> raw;
  std::vector<store::UtilizationRow> samples;
  // Raw and demand-only events.
  std::map<DemandKey, DemandCell> demand;
  store::BatchCounts counts;
  int64_t events_rejected = 0;
  int64_t samples_rejected = 0;
  // Events and samples received (accepted or not): what the batch weighs in the ingest queue.
  size_t records = 0;
};

// "id:<client id>" when the event names a client, else "ip:<address>": one client identity for
// affinity and for the distinct-client sketch.
inline std::string ClientKey(const store::AccessRow& row) {
  return row.client_id.empty() ? "ip:" + row.client_ip : "id:" + row.client_id;
}

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_VALIDATED_BATCH_H_
