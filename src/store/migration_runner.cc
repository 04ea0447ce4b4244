#include "store/migration_runner.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "store/database_error.h"

namespace shadowplane::store {
namespace {

// Any fixed key works; all shadowplane servers must agree on it. ("SPSCHEMA" in ASCII.)
constexpr int64_t kMigrationLockKey = 0x5350534348454D41;

}  // namespace

absl::StatusOr<std::vector<Migration>> ParseMigrations(const std::vector<MigrationFile>& files) {
  std::vector<Migration> out;
  std::map<int64_t, std::string> seen;
  for (const MigrationFile& file : files) {
    const std::string& f = file.filename;
    const size_t underscore = f.find('_');
    int64_t version = 0;
    const bool digits = underscore != std::string::npos && underscore >= 4 &&
                        std::all_of(f.begin(), f.begin() + underscore,
                                    [](char c) { return absl::ascii_isdigit(c); });
    if (!digits || !absl::EndsWith(f, ".sql") || f.size() <= underscore + 5 ||
        !absl::SimpleAtoi(f.substr(0, underscore), &version) || version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration file '", f, "' is not named NNNN_name.sql (N a digit, >= 0001)"));
    }
    if (auto [it, inserted] = seen.emplace(version, f); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration files '", it->second, "' and '", f, "' share version ", version));
    }
    out.push_back({version, f.substr(underscore + 1, f.size() - underscore - 5), f, file.sql});
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

absl::StatusOr<std::vector<MigrationFile>> ReadMigrationDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("migrations directory ", dir, " cannot be read: ", strerror(errno)));
  }
  absl::Cleanup close_dir = [d] { closedir(d); };
  std::vector<MigrationFile> files;
  while (const dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (!absl::EndsWith(name, ".sql")) continue;
    std::ifstream in(dir + "/" + name, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", dir, "/", name));
    std::stringstream text;
    text << in.rdbuf();
    files.push_back({name, text.str()});
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.filename < b.filename; });
  return files;
}

absl::StatusOr<MigrationReport> ApplyMigrations(pqxx::connection& conn,
                                                const std::vector<Migration>& migrations) {
  return CatchDatabaseErrors(
      "applying schema migrations", [&]() -> absl::StatusOr<MigrationReport> {
        {
          pqxx::nontransaction lock(conn);
          lock.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
        }
        // Session-level lock: released here, or by the server when the connection drops.
        absl::Cleanup unlock = [&conn] {
          try {
            pqxx::nontransaction txn(conn);
            txn.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
          } catch (const std::exception&) {
            // The connection is gone, and with it the lock.
          }
        };
        {
          pqxx::work txn(conn);
          txn.exec(
              "CREATE TABLE IF NOT EXISTS schema_migrations ("
              "  version bigint PRIMARY KEY,"
              "  name text NOT NULL,"
              "  checksum text NOT NULL,"
              "  applied_at timestamptz NOT NULL DEFAULT now(),"
              "  execution_ms double precision NOT NULL)");
          txn.commit();
        }
        std::map<int64_t, std::pair<std::string, std::string>>
            applied;  // version -> (name, checksum)
        {
          pqxx::read_transaction txn(conn);
          for (const auto& row :
               txn.exec("SELECT version, name, checksum FROM schema_migrations")) {
            applied[row[0].as<int64_t>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
          }
        }
        std::map<int64_t, const Migration*> known;
        for (const Migration& m : migrations) known[m.version] = &m;
        for (const auto& [version, row] : applied) {
          if (known.count(version) == 0) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the database has schema migration ", version, " (", row.first,
                ") which this binary does not know: it was migrated by a newer shadowplane"));
          }
        }

        MigrationReport report;
        const int64_t highest_applied = applied.empty() ? 0 : applied.rbegin()->first;
        for (const Migration& m : migrations) {
          pqxx::work txn(conn);
          const std::string checksum =
              txn.exec_params1("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", m.sql)[0]
                  .as<std::string>();
          if (auto it = applied.find(m.version); it != applied.end()) {
            if (it->second.second != checksum) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "migration ", m.filename, " was changed after it was applied (checksum ",
                  checksum, ", recorded ", it->second.second,
                  "): add a new migration instead of editing an applied one"));
            }
            continue;
          }
          if (m.version < highest_applied) {
            return absl::FailedPreconditionError(
                absl::StrCat("migration ", m.filename, " is not applied but a later one (",
                             highest_applied, ") is: refusing to apply migrations out of order"));
          }
          const absl::Time start = absl::Now();
          try {
            txn.exec(m.sql);
          } catch (const std::exception& e) {
            return StatusFromDatabaseError(e, absl::StrCat("applying migration ", m.filename));
          }
          const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
          txn.exec_params(
              "INSERT INTO schema_migrations (version, name, checksum, execution_ms) "
              "VALUES ($1, $2, $3, $4)",
              m.version, m.name, checksum, ms);
          txn.commit();
          LOG_EVENT(kInfo, "schema migration applied")
              .Field("migration", m.filename)
              .Field("execution_ms", ms);
          report.applied.push_back(m.filename);
        }
        report.schema_version = migrations.empty()
                                    ? highest_applied
                                    : std::max(highest_applied, migrations.back().version);
        return report;
      });
}

}  // namespace shadowplane::store
