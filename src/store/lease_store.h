// Named leases in PostgreSQL for background loops that several replicas share: whoever holds a
// lease does the work, renewing it while it runs; when it stops renewing (it died or lost the
// database), another replica takes over once the lease has expired. Expiry uses the database's
// clock, so replicas need not agree on time. Thread-safe.
#ifndef SHADOWPLANE_STORE_LEASE_STORE_H_
#define SHADOWPLANE_STORE_LEASE_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

class LeaseStore {
 public:
  explicit LeaseStore(ConnectionPool* pool) : pool_(pool) {}

  // Takes or renews `name` for `owner` for `ttl`. True when `owner` holds it now; false when
  // another owner holds an unexpired lease.
  absl::StatusOr<bool> TryAcquire(const std::string& name, const std::string& owner,
                                  absl::Duration ttl);
  // Gives the lease up if `owner` holds it, so that another replica need not wait for expiry.
  absl::Status Release(const std::string& name, const std::string& owner);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_LEASE_STORE_H_
