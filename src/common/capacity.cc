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

absl::Status ValidateCapacityValue(int64_t value, int64_t max, bool zero_allowed,
                                   absl::string_view field) {
  const int64_t min = zero_allowed ? 0 : 1;
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be within [", min, ", ", max, "], got ", value));
  }
  return absl::OkStatus();
}

absl::Status ValidateCapacity(const Capacity& capacity, absl::string_view field) {
  if (absl::Status s = ValidateCapacityValue(capacity.millicores, kMaxMillicores, false,
                                             absl::StrCat(field, ".millicores"));
      !s.ok()) {
    return s;
  }
  return ValidateCapacityValue(capacity.memory_mib, kMaxMemoryMib, false,
                               absl::StrCat(field, ".memory_mib"));
}

}  // namespace shadowplane
