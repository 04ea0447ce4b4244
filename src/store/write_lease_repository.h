// Fencing in PostgreSQL: each resource's primary epoch and each instance's write lease.
//
// Write authority over a resource is granted to one instance at a time: every grant to another
// instance (a cutover, an emergency promotion, a rollback) moves the resource's primary epoch on,
// and only an instance granted in the current epoch, recorded read-write and live, may have its
// lease renewed. An instance takes writes only while its lease holds (instance/file_server.h), so
// once a grant moved the epoch on, the instance that held it before stops taking writes at the
// latest when its last lease runs out.
//
// Lease times use the database's clock (as store/lease_store.h does), so replicas need not agree
// on time: a lease recorded here expires no earlier than the copy the instance enforces, because
// the agent counts it from before its request and this table from after it. Thread-safe.
#ifndef SHADOWPLANE_STORE_WRITE_LEASE_REPOSITORY_H_
#define SHADOWPLANE_STORE_WRITE_LEASE_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

// Why a renewal was refused; kGranted when it was not.
enum class LeaseVerdict {
  kGranted,
  kSuperseded,  // another grant moved the epoch on: the instance must stop taking writes
  kNotWriter,   // the instance is recorded read-only, retired, stopped, or unknown
};
const char* LeaseVerdictName(LeaseVerdict verdict);

struct LeaseRenewal {
  LeaseVerdict verdict = LeaseVerdict::kNotWriter;
  int64_t current_epoch = 0;  // the resource's (0 when the instance is unknown)
};

// A lease an agent holds for one of its instances, as it asks to renew it.
struct HeldLease {
  std::string instance_id;
  int64_t epoch = 0;
};

struct InstanceLease {
  std::string instance_id;
  std::string resource_id;
  std::string reservation_id;
  std::string location;
  std::string endpoint;
  int64_t write_epoch = 0;
  int64_t primary_epoch = 0;
  std::optional<absl::Time> expires_at;  // on the database's clock
  std::optional<absl::Time> renewed_at;
  absl::Time database_now;  // when it was read, on the same clock
  std::string migrating;    // request_id of the resource's unfinished migration, if any
  // True while the recorded lease may still be held (expires_at after database_now).
  bool held() const { return expires_at.has_value() && *expires_at > database_now; }
};

class WriteLeaseRepository {
 public:
  explicit WriteLeaseRepository(ConnectionPool* pool) : pool_(pool) {}

  // Grants write authority over its resource to `instance_id`: records it read-write and, with
  // `new_epoch`, moves the resource's epoch on first (every grant that hands writes to another
  // instance must). Returns the epoch to hand to the instance. Without `new_epoch` it is the
  // current one (epoch 1 for the resource's first primary), and FAILED_PRECONDITION unless the
  // instance already holds it (a retried create, a restart of the same primary). NOT_FOUND for an
  // unknown instance.
  absl::StatusOr<int64_t> Grant(const std::string& instance_id, bool new_epoch, absl::Time now);
  // Records that the instance was handed a lease of `lease` in `epoch` (after the agent
  // answered). Ignored when the epoch has moved on since.
  absl::Status RecordLease(const std::string& instance_id, int64_t epoch, absl::Duration lease);
  // The renewal by the agent at `location` for an instance it runs read-write in `epoch`:
  // granted (and recorded) only when the instance is at that location and is its resource's
  // live read-write instance of the current epoch.
  absl::StatusOr<LeaseRenewal> Renew(const std::string& instance_id, const std::string& location,
                                     int64_t epoch, absl::Duration lease);
  // Renew for every lease an agent holds, in one transaction of two statements however many
  // there are; the answers in the order asked.
  absl::StatusOr<std::vector<LeaseRenewal>> RenewAll(const std::string& location,
                                                     const std::vector<HeldLease>& held,
                                                     absl::Duration lease);
  // The instance's lease as recorded; NOT_FOUND for an unknown instance.
  absl::StatusOr<InstanceLease> Lease(const std::string& instance_id);
  // Live read-write primaries of active reservations whose lease was granted once and last
  // renewed more than `silent_for` ago (on the database's clock), oldest first.
  absl::StatusOr<std::vector<InstanceLease>> Silent(absl::Duration silent_for, int limit);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_WRITE_LEASE_REPOSITORY_H_
