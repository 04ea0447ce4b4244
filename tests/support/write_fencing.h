// Write authority as the server wires it (server/wiring/reservation_wiring.cc), for in-process
// tests that build a ReservationManager or a Migrator: epochs and leases in the test's database,
// grants through the test's compute provider, a 10 s lease.
#ifndef SHADOWPLANE_TESTS_SUPPORT_WRITE_FENCING_H_
#define SHADOWPLANE_TESTS_SUPPORT_WRITE_FENCING_H_

#include "absl/time/time.h"
#include "common/clock.h"
#include "fencing/write_authority.h"
#include "providers/compute_provider.h"
#include "store/connection_pool.h"
#include "store/write_lease_repository.h"

namespace shadowplane::testing {

struct WriteFencing {
  WriteFencing(store::ConnectionPool* pool, providers::ComputeProvider* compute, const Clock* clock)
      : leases(pool), writes(&leases, compute, clock, absl::Seconds(10)) {}

  store::WriteLeaseRepository leases;
  fencing::WriteAuthority writes;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_WRITE_FENCING_H_
