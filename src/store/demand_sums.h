// The additive part of an hour of demand (one demand_hourly row, or a sum of them): what the
// ingest path adds up per event and merges per commit, and what reads add up per bucket.
#ifndef SHADOWPLANE_STORE_DEMAND_SUMS_H_
#define SHADOWPLANE_STORE_DEMAND_SUMS_H_

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shadowplane::store {

// a + b for counts that are never negative, held at INT64_MAX instead of wrapping: a peer may
// report up to 1 TiB per event, and 2^23 such events in one hour would wrap a sum of bytes.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// The SQL for the same: `a + b` as bigint, held at the largest bigint (PostgreSQL refuses an
// overflowing bigint sum, which would fail the whole commit group). `a` and `b` are SQL
// expressions of our own, never input.
inline std::string SaturatingAddSql(absl::string_view a, absl::string_view b) {
  return absl::StrCat("LEAST((", a, ")::numeric + (", b, "), 9223372036854775807)::bigint");
}

struct DemandSums {
  int64_t requests = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  double cpu_millis = 0;
  double memory_bytes = 0;
  double latency_ms_sum = 0;  // over the requests that reported a latency
  int64_t latency_count = 0;

  void Add(const DemandSums& o) {
    requests = SaturatingAdd(requests, o.requests);
    bytes_in = SaturatingAdd(bytes_in, o.bytes_in);
    bytes_out = SaturatingAdd(bytes_out, o.bytes_out);
    cpu_millis += o.cpu_millis;
    memory_bytes += o.memory_bytes;
    latency_ms_sum += o.latency_ms_sum;
    latency_count = SaturatingAdd(latency_count, o.latency_count);
  }
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_DEMAND_SUMS_H_
