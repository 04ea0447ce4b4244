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

// INVALID_ARGUMENT naming `field`.millicores or `field`.memory_mib when not positive.
absl::Status ValidateCapacity(const Capacity& capacity, absl::string_view field);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CAPACITY_H_
