#include "sync/sync_limits.h"

#include <algorithm>
#include <limits>

namespace shadowplane::sync {

int64_t MaxRebuiltSize(const SyncLimits& limits, int64_t declared_size) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t declared = std::max<int64_t>(declared_size, 0);
  const int64_t slack = std::max<int64_t>(limits.delta_slack_bytes, 0);
  if (declared > (kMax - slack) / 2) return kMax;
  return 2 * declared + slack;
}

}  // namespace shadowplane::sync
