// The offline optimum of the trace-driven evaluation: with perfect knowledge of every hour's
// demand, prices and spot reclaims, the schedule of placements (location and capacity type) with
// the lowest total cost (serving plus moves, from evaluation/cost_table.h), under the planner's
// dwell rule: no move sooner than `min_dwell_hours` after the last one, except an urgent move out
// of spot capacity reclaimed that hour, which the dwell never holds back (as the server's
// fallbacks). The daily cap is not imposed, which only widens what the oracle may do: its cost
// stays a lower bound for every policy that obeys dwell and caps.
//
// Dynamic programming over (hour, placement, hours since the last move, capped at the dwell):
// O(hours × placements² × dwell) time, O(hours × placements × dwell) memory. Ties keep the earlier
// placement in the table's order, so the schedule is deterministic.
#ifndef SHADOWPLANE_EVALUATION_ORACLE_H_
#define SHADOWPLANE_EVALUATION_ORACLE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/cost_table.h"

namespace shadowplane::evaluation {

struct OracleOptions {
  int min_dwell_hours = 2;  // a move at hour h allows the next at h + min_dwell_hours at earliest
};

struct OracleSchedule {
  std::vector<int> schedule;  // the placement serving each hour
  double total_cost = 0;
};

// INVALID_ARGUMENT for `start` out of range or a negative dwell; FAILED_PRECONDITION when no
// schedule exists (every placement reclaimed in some hour).
absl::StatusOr<OracleSchedule> Oracle(const CostTable& table, int start,
                                      const OracleOptions& options = {});

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_ORACLE_H_
