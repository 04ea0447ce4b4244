// The additive part of an hour of demand (one demand_hourly row, or a sum of them): what the
// ingest path adds up per event and merges per commit, and what reads add up per bucket.
#ifndef SHADOWPLANE_STORE_DEMAND_SUMS_H_
#define SHADOWPLANE_STORE_DEMAND_SUMS_H_

#include <cstdint>

namespace shadowplane::store {

struct DemandSums {
  int64_t requests = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  double cpu_millis = 0;
  double memory_bytes = 0;
  double latency_ms_sum = 0;  // over the requests that reported a latency
  int64_t latency_count = 0;

  void Add(const DemandSums& o) {
    requests += o.requests;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    cpu_millis += o.cpu_millis;
    memory_bytes += o.memory_bytes;
    latency_ms_sum += o.latency_ms_sum;
    latency_count += o.latency_count;
  }
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_DEMAND_SUMS_H_
