#include "store/team_quota.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::store {
namespace {

// Keys of two-part advisory locks: (this class, hash of the team) cannot meet the one-part keys
// used elsewhere.
constexpr int kTeamQuotaLockClass = 0x5351;  // "SQ"

absl::Status CheckLimit(const std::string& team, const char* what, std::optional<int64_t> limit,
                        int64_t used, int64_t asked) {
  if (!limit.has_value()) return absl::OkStatus();
  // used, asked >= 0: used + asked > limit  <=>  asked > limit - used (no overflow either way).
  if (used <= *limit && asked <= *limit - used) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("team '", team, "' quota of ", *limit, " ", what,
                                                   " exceeded: ", used, " in use, ", asked,
                                                   " asked"));
}

// A sum the database computed (numeric: it never overflows there); INT64_MAX when it is past it.
int64_t SumOf(const pqxx::field& f) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(f.as<std::string>(), &value)) return std::numeric_limits<int64_t>::max();
  return value;
}

}  // namespace

absl::Status WithinTeamQuota(const std::string& team, const TeamQuota& quota, const Capacity& used,
                             const Capacity& asked) {
  if (absl::Status s =
          CheckLimit(team, "millicores", quota.millicores, used.millicores, asked.millicores);
      !s.ok()) {
    return s;
  }
  return CheckLimit(team, "memory_mib", quota.memory_mib, used.memory_mib, asked.memory_mib);
}

absl::Status CheckTeamQuota(pqxx::work& txn, const std::string& team, const TeamQuota& quota,
                            const Capacity& asked, const std::string& except_reservation) {
  txn.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kTeamQuotaLockClass, team);
  const pqxx::row used = txn.exec_params1(
      "SELECT COALESCE(sum(capacity_millicores), 0)::text, COALESCE(sum(memory_mib), 0)::text "
      "FROM reservations WHERE owner_team = $1 AND state IN ('pending', 'active', 'releasing') "
      "AND ($2 = '' OR id::text <> $2)",
      team, except_reservation);
  Capacity in_use;
  in_use.millicores = SumOf(used[0]);
  in_use.memory_mib = SumOf(used[1]);
  return WithinTeamQuota(team, quota, in_use, asked);
}

}  // namespace shadowplane::store
