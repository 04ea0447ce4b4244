#include "common/capacity.h"

#include "absl/strings/str_cat.h"

namespace shadowplane {

const char* CapacityTypeName(CapacityType type) {
  return type == CapacityType::kSpot ? "spot" : "on_demand";
}

bool ParseCapacityType(absl::string_view text, CapacityType* type) {
  if (text == "spot") {
    *type = CapacityType::kSpot;
    return true;
  }
  if (text == "on_demand") {
    *type = CapacityType::kOnDemand;
    return true;
  }
  return false;
}

absl::Status ValidateCapacity(const Capacity& capacity, absl::string_view field) {
  if (capacity.millicores <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".millicores must be positive, got ", capacity.millicores));
  }
  if (capacity.memory_mib <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".memory_mib must be positive, got ", capacity.memory_mib));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane
