#include "store/price_repository.h"

#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "store/sql_array.h"
#include "store/sql_time.h"

namespace shadowplane::store {
namespace {

std::optional<double> OptionalDouble(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

}  // namespace

absl::Status PriceRepository::Record(const std::vector<PriceRecord>& records,
                                     absl::Time recorded_at) {
  if (records.empty()) return absl::OkStatus();
  return pool_->Run("recording prices", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    std::set<std::string> known;
    for (const auto& row : txn.exec("SELECT name FROM locations")) {
      known.insert(row[0].as<std::string>());
    }
    for (size_t i = 0; i < records.size(); ++i) {
      if (known.count(records[i].location) == 0) {
        return absl::NotFoundError(absl::StrCat("prices[", i, "]: location ",
                                                records[i].location.substr(0, 64), " not found"));
      }
    }
    const std::string recorded = ToSqlTime(recorded_at);
    for (const PriceRecord& p : records) {
      txn.exec_params(
          "INSERT INTO location_prices (location, observed_at, on_demand_price_per_vcpu_hour, "
          "on_demand_price_per_gib_hour, spot_price_per_vcpu_hour, spot_price_per_gib_hour, "
          "spot_availability, source, recorded_at) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, "
          "$7, $8, $9::timestamptz) ON CONFLICT (location, observed_at) DO UPDATE SET "
          "on_demand_price_per_vcpu_hour = EXCLUDED.on_demand_price_per_vcpu_hour, "
          "on_demand_price_per_gib_hour = EXCLUDED.on_demand_price_per_gib_hour, "
          "spot_price_per_vcpu_hour = EXCLUDED.spot_price_per_vcpu_hour, "
          "spot_price_per_gib_hour = EXCLUDED.spot_price_per_gib_hour, "
          "spot_availability = EXCLUDED.spot_availability, source = EXCLUDED.source, "
          "recorded_at = EXCLUDED.recorded_at",
          p.location, ToSqlTime(p.observed_at), p.on_demand_price_per_vcpu_hour,
          p.on_demand_price_per_gib_hour, p.spot_price_per_vcpu_hour, p.spot_price_per_gib_hour,
          p.spot_availability, p.source, recorded);
    }
    // Older history than the retention is of no use to the planner: pruned as new comes in.
    std::set<std::string> touched;
    for (const PriceRecord& p : records) touched.insert(p.location);
    for (const std::string& location : touched) {
      txn.exec_params(
          "DELETE FROM location_prices WHERE location = $1 AND observed_at < (SELECT "
          "max(observed_at) FROM location_prices WHERE location = $1) - $2::bigint * interval "
          "'1 second'",
          location, absl::ToInt64Seconds(kPriceRetention));
    }
    txn.commit();
    return absl::OkStatus();
  });
}

std::map<std::string, PriceHistory> ReadPriceHistories(pqxx::transaction_base& txn,
                                                       const std::string& location) {
  std::map<std::string, PriceHistory> out;
  const pqxx::result rows = txn.exec_params(
      "WITH latest AS (SELECT location, max(observed_at) AS at FROM location_prices WHERE "
      "$1::text = '' OR location = $1::text GROUP BY location) "
      "SELECT p.location, " SP_SQL_UTC("p.observed_at") ", p.on_demand_price_per_vcpu_hour, "
      "p.on_demand_price_per_gib_hour, p.spot_price_per_vcpu_hour, p.spot_price_per_gib_hour, "
      "p.spot_availability, p.source FROM location_prices p JOIN latest l ON l.location = "
      "p.location WHERE p.observed_at > l.at - $2::bigint * interval '1 second' "
      "ORDER BY p.location, p.observed_at",
      location, absl::ToInt64Seconds(kPriceHistoryWindow));
  for (const auto& row : rows) {
    PriceRecord p;
    p.location = row[0].as<std::string>();
    p.observed_at = FromSqlTime(row[1].as<std::string>());
    p.on_demand_price_per_vcpu_hour = row[2].as<double>();
    p.on_demand_price_per_gib_hour = row[3].as<double>();
    p.spot_price_per_vcpu_hour = OptionalDouble(row[4]);
    p.spot_price_per_gib_hour = OptionalDouble(row[5]);
    p.spot_availability = OptionalDouble(row[6]);
    p.source = row[7].as<std::string>();
    out[p.location].observations.push_back(std::move(p));
  }
  // Spot is back since the first observation after the last one that said it was gone (a
  // location never reported gone has no such time: spot has been there all along).
  const pqxx::result since_rows = txn.exec_params(
      "WITH gone AS (SELECT location, max(observed_at) AS at FROM location_prices WHERE "
      "spot_price_per_vcpu_hour IS NULL OR spot_availability = 0 GROUP BY location) "
      "SELECT p.location, " SP_SQL_UTC("min(p.observed_at)") " FROM location_prices p "
      "JOIN gone g ON g.location = p.location WHERE ($1::text = '' OR p.location = $1::text) "
      "AND p.observed_at > g.at GROUP BY p.location",
      location);
  for (const auto& row : since_rows) {
    out[row[0].as<std::string>()].spot_available_since = FromSqlTime(row[1].as<std::string>());
  }
  return out;
}

absl::StatusOr<PriceHistory> PriceRepository::History(const std::string& location) {
  return pool_->Run("reading prices", [&](pqxx::connection& conn) -> absl::StatusOr<PriceHistory> {
    pqxx::read_transaction txn(conn);
    std::map<std::string, PriceHistory> all = ReadPriceHistories(txn, location);
    auto found = all.find(location);
    return found == all.end() ? PriceHistory() : std::move(found->second);
  });
}

}  // namespace shadowplane::store
