#include "agent/capacity_ledger.h"

#include "absl/strings/str_cat.h"

namespace shadowplane::agent {

absl::Status CapacityLedger::CheckFits(const std::map<std::string, Capacity>& active,
                                       const Capacity& wanted, const std::string& replacing) const {
  int64_t millicores = 0;
  int64_t memory = 0;
  for (const auto& [id, capacity] : active) {
    if (id == replacing) continue;
    millicores += capacity.millicores;
    memory += capacity.memory_mib;
  }
  if (millicores + wanted.millicores > millicores_ || memory + wanted.memory_mib > memory_mib_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("location ", location_, " has ", millicores_ - millicores, " millicores and ",
                     memory_mib_ - memory, " MiB free; asked for ", wanted.millicores,
                     " millicores and ", wanted.memory_mib, " MiB"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CapacityLedger::AllocateAddress(
    const std::set<std::string>& taken) const {
  for (int i = 1; i <= 254; ++i) {
    std::string address = absl::StrCat(network_, ".", i);
    if (taken.count(address) == 0) return address;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("all 254 instance addresses of ", network_, ".0/24 are in use"));
}

}  // namespace shadowplane::agent
