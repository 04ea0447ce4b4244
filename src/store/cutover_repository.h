// Measured cutovers (`migration_cutovers`) and the freeze model fitted to them (`freeze_model`,
// one row). Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_CUTOVER_REPOSITORY_H_
#define SHADOWPLANE_STORE_CUTOVER_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct CutoverRow {
  std::string migration_id;  // empty: measured outside a migration
  absl::Time at;
  int64_t dirty_bytes = 0;
  int64_t dirty_files = 0;
  double freeze_seconds = 0;
};

struct FreezeModelRow {
  double base_seconds = 0;
  double seconds_per_mib = 0;
  double seconds_per_file = 0;
  double residual_p95_seconds = 0;
  int samples = 0;
  absl::Time fitted_at;
};

class CutoverRepository {
 public:
  explicit CutoverRepository(ConnectionPool* pool) : pool_(pool) {}

  absl::Status Record(const CutoverRow& cutover);
  // The newest `limit` cutovers, newest first.
  absl::StatusOr<std::vector<CutoverRow>> Recent(int limit);
  absl::Status SaveModel(const FreezeModelRow& model);
  // Absent until a model was saved.
  absl::StatusOr<std::optional<FreezeModelRow>> LoadModel();

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_CUTOVER_REPOSITORY_H_
