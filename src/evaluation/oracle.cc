#include "evaluation/oracle.h"

#include <algorithm>
#include <limits>

namespace shadowplane::evaluation {

absl::StatusOr<OracleSchedule> Oracle(const CostTable& table, int start,
                                      const OracleOptions& options) {
  const int n = table.size();
  const int hours = table.hours();
  if (start < 0 || start >= n) return absl::InvalidArgumentError("start is not a placement");
  if (options.min_dwell_hours < 0) {
    return absl::InvalidArgumentError("min_dwell_hours must not be negative");
  }
  // The state before an hour: the placement, and k, the hours served there since the last move
  // (capped at d). A move is allowed when k >= the dwell or the placement is reclaimed that hour;
  // moving serves one hour (k = 1), staying adds one. Nothing serves from, or moves onto, a
  // reclaimed placement.
  const int d = std::max(1, options.min_dwell_hours);
  const int states = n * (d + 1);
  auto id = [d](int l, int k) { return l * (d + 1) + k; };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(static_cast<size_t>(states), kInf);
  std::vector<std::vector<int>> from(static_cast<size_t>(hours),
                                     std::vector<int>(static_cast<size_t>(states), -1));
  // Before hour 0: at `start`, free to move.
  std::vector<double> before(static_cast<size_t>(states), kInf);
  before[static_cast<size_t>(id(start, d))] = 0;
  for (int h = 0; h < hours; ++h) {
    std::fill(best.begin(), best.end(), kInf);
    for (int l = 0; l < n; ++l) {
      for (int k = 0; k <= d; ++k) {
        const double c = before[static_cast<size_t>(id(l, k))];
        if (c == kInf) continue;
        const bool reclaimed = table.Interrupted(h, l);
        // Stay at l.
        const int stay = id(l, std::min(d, k + 1));
        const double staying = c + table.Serve(h, l).total();
        if (!reclaimed && staying < best[static_cast<size_t>(stay)]) {
          best[static_cast<size_t>(stay)] = staying;
          from[static_cast<size_t>(h)][static_cast<size_t>(stay)] = id(l, k);
        }
        // Move to m, when the dwell allows or l is reclaimed.
        if (k < options.min_dwell_hours && !reclaimed) continue;
        for (int m = 0; m < n; ++m) {
          if (m == l || table.Interrupted(h, m)) continue;
          const int moved = id(m, 1);
          const double moving = c + table.MoveHour(h, l, m).total();
          if (moving < best[static_cast<size_t>(moved)]) {
            best[static_cast<size_t>(moved)] = moving;
            from[static_cast<size_t>(h)][static_cast<size_t>(moved)] = id(l, k);
          }
        }
      }
    }
    before = best;
  }
  OracleSchedule out;
  int at = 0;
  out.total_cost = kInf;
  for (int s = 0; s < states; ++s) {
    if (before[static_cast<size_t>(s)] < out.total_cost) {
      out.total_cost = before[static_cast<size_t>(s)];
      at = s;
    }
  }
  if (out.total_cost == kInf) {
    return absl::FailedPreconditionError("no schedule avoids reclaimed spot capacity");
  }
  out.schedule.assign(static_cast<size_t>(hours), 0);
  for (int h = hours - 1; h >= 0; --h) {
    out.schedule[static_cast<size_t>(h)] = at / (d + 1);
    at = from[static_cast<size_t>(h)][static_cast<size_t>(at)];
  }
  return out;
}

}  // namespace shadowplane::evaluation
