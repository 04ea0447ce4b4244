// A location's capacity and addresses, shared by its active instances: whether one more (or a
// resized one) fits, and which loopback address it gets. Pure; the InstanceManager passes what
// its active instances hold.
#ifndef SHADOWPLANE_AGENT_CAPACITY_LEDGER_H_
#define SHADOWPLANE_AGENT_CAPACITY_LEDGER_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/capacity.h"

namespace shadowplane::agent {

class CapacityLedger {
 public:
  // `network` is the first three octets of the instances' /24 (e.g. "127.0.1").
  CapacityLedger(std::string location, int64_t millicores, int64_t memory_mib, std::string network)
      : location_(std::move(location)),
        millicores_(millicores),
        memory_mib_(memory_mib),
        network_(std::move(network)) {}

  // OK when `wanted` fits beside the capacity `active` holds (by instance id), leaving out the
  // instance `replacing` (resized, or re-activated); RESOURCE_EXHAUSTED saying what is free.
  absl::Status CheckFits(const std::map<std::string, Capacity>& active, const Capacity& wanted,
                         const std::string& replacing) const;
  // The lowest NETWORK.1 ... NETWORK.254 not in `taken`; RESOURCE_EXHAUSTED when all are.
  absl::StatusOr<std::string> AllocateAddress(const std::set<std::string>& taken) const;

  Capacity total() const { return Capacity{millicores_, memory_mib_}; }

 private:
  const std::string location_;
  const int64_t millicores_;
  const int64_t memory_mib_;
  const std::string network_;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_CAPACITY_LEDGER_H_
