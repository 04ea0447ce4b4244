// The audit trail's rows (`audit_log`, migrations/0021_audit_log.sql). Thread-safe (each call
// takes a pooled connection).
#ifndef SHADOWPLANE_STORE_AUDIT_REPOSITORY_H_
#define SHADOWPLANE_STORE_AUDIT_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct AuditRecord {
  // Set when read, and by Begin(): then Append() completes that row (its code and message).
  int64_t id = 0;
  absl::Time at;
  std::string caller;
  std::string role;
  std::string method;
  std::map<std::string, std::string> targets;
  std::string request_id;
  std::string code;
  std::string message;
};

struct AuditFilter {
  std::string caller;  // empty: any
  std::string method;  // the full name or a suffix of it; empty: any
  std::string code;    // empty: any
  std::optional<absl::Time> from, to;
  std::optional<int64_t> before_id;  // paging: rows with a smaller id
  int limit = 100;
};

class AuditRepository {
 public:
  explicit AuditRepository(ConnectionPool* pool) : pool_(pool) {}

  // All of `records` in one statement. Text is stored as given, but for NUL characters (which
  // PostgreSQL text cannot hold), replaced by U+FFFD.
  // Records with an id complete the row Begin() wrote instead (code and message only).
  absl::Status Append(const std::vector<AuditRecord>& records);
  // Writes `record` now, as a call that has not ended (its code as given, e.g. PENDING); its id.
  absl::StatusOr<int64_t> Begin(const AuditRecord& record);
  // Newest first.
  absl::StatusOr<std::vector<AuditRecord>> List(const AuditFilter& filter);
  // Deletes the rows older than `before`; how many.
  absl::StatusOr<int64_t> Purge(absl::Time before);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_AUDIT_REPOSITORY_H_
