// The schema migrations compiled into the binary (generated from migrations/*.sql at build time).
#ifndef SHADOWPLANE_STORE_EMBEDDED_MIGRATIONS_H_
#define SHADOWPLANE_STORE_EMBEDDED_MIGRATIONS_H_

#include <string>
#include <vector>

namespace shadowplane::store {

struct MigrationFile {
  std::string filename;  // "0001_core.sql"
  std::string sql;
};

// In file-name order.
const std::vector<MigrationFile>& EmbeddedMigrationFiles();

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_EMBEDDED_MIGRATIONS_H_
