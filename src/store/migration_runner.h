// Applies the schema migrations (migrations/NNNN_name.sql) in order, each in its own transaction,
// and records them in `schema_migrations` with a SHA-256 checksum of the file.
//
// Refuses to start (FAILED_PRECONDITION) when an applied file's checksum changed, when the database
// has a migration this binary does not know (a newer schema), or when a gap would be filled out of
// order. Servers starting together against one database serialize on an advisory lock, so each
// migration is applied exactly once. Running it again is a no-op.
#ifndef SHADOWPLANE_STORE_MIGRATION_RUNNER_H_
#define SHADOWPLANE_STORE_MIGRATION_RUNNER_H_

#include <cstdint>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/embedded_migrations.h"

namespace shadowplane::store {

struct Migration {
  int64_t version;       // NNNN
  std::string name;      // the part after NNNN_, without .sql
  std::string filename;  // as given
  std::string sql;
};

// Validates names (NNNN_name.sql), unique versions, and sorts by version. INVALID_ARGUMENT
// naming the file otherwise.
absl::StatusOr<std::vector<Migration>> ParseMigrations(const std::vector<MigrationFile>& files);

// Reads every *.sql file of `dir`. NOT_FOUND if the directory cannot be read.
absl::StatusOr<std::vector<MigrationFile>> ReadMigrationDir(const std::string& dir);

struct MigrationReport {
  std::vector<std::string> applied;  // filenames applied by this call, in order
  int64_t schema_version = 0;        // highest applied version afterwards
};

// Applies what is missing on `conn` (which must not be inside a transaction).
absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection& conn,
                                                const std::vector<Migration>& migrations);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_MIGRATION_RUNNER_H_
