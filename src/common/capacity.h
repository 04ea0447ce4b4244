// Capacity: vCPU in millicores plus memory in MiB, and whether it is spot or on-demand.
#ifndef SHADOWPLANE_COMMON_CAPACITY_H_
#define SHADOWPLANE_COMMON_CAPACITY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shadowplane {

enum class CapacityType { kOnDemand, kSpot };

// "on_demand" / "spot", as stored in the database.
const char* CapacityTypeName(CapacityType type);
bool ParseCapacityType(absl::string_view text, CapacityType* type);

struct Capacity {
  int64_t millicores = 0;
  int64_t memory_mib = 0;
  CapacityType type = CapacityType::kOnDemand;

  bool operator==(const Capacity& other) const {
    return millicores == other.millicores && memory_mib == other.memory_mib && type == other.type;
  }
};

// The most a team's live reservations may hold together (api/access/token_store.h's `teams:`);
// an unset limit is no limit.
struct TeamQuota {
  std::optional<int64_t> millicores;
  std::optional<int64_t> memory_mib;
};

// Bounds of any one capacity (an instance's, a reservation's, a location's): far beyond any real
// machine or region, and small enough that sums over every row the database holds stay within
// int64 (in C++ and in PostgreSQL's bigint), and no room check wraps.
inline constexpr int64_t kMaxMillicores = 1'000'000'000;    // a million vCPUs
inline constexpr int64_t kMaxMemoryMib = int64_t{1} << 40;  // an exbibyte

// INVALID_ARGUMENT naming `field`.millicores or `field`.memory_mib when not positive, or above
// kMaxMillicores / kMaxMemoryMib.
absl::Status ValidateCapacity(const Capacity& capacity, absl::string_view field);
// INVALID_ARGUMENT naming `field` when `value` is outside [0 or 1, max].
absl::Status ValidateCapacityValue(int64_t value, int64_t max, bool zero_allowed,
                                   absl::string_view field);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CAPACITY_H_
