#include "store/forecast_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

std::string DoubleArray(const std::vector<double>& values) {
  SqlArray array;
  for (double v : values) array.AddDouble(v);
  return array.Take();
}

std::vector<double> ParseDoubles(const pqxx::field& f) {
  std::vector<double> out;
  for (absl::string_view piece : absl::StrSplit(f.c_str(), ',', absl::SkipEmpty())) {
    double v;
    if (absl::SimpleAtod(piece, &v)) out.push_back(v);
  }
  return out;
}

constexpr char kUtc[] = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

}  // namespace

absl::Status ForecastRepository::Append(std::vector<ForecastRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  return pool_->Run("storing forecasts", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    for (ForecastRecord& r : records) {
      std::optional<std::string> fallback;
      if (!r.fallback_reason.empty()) fallback = r.fallback_reason;
      r.id = txn.exec_params1(
                    "INSERT INTO forecasts (resource_id, origin_region, model, parameters, "
                    "first_hour, horizon_values, history_hours, computed_at, fallback_reason) "
                    "VALUES ($1::uuid, $2, $3, $4::float8[], $5::timestamptz, $6::float8[], $7, "
                    "$8::timestamptz, $9) RETURNING id",
                    r.resource_id, r.origin_region, r.model, DoubleArray(r.parameters),
                    ToSqlTime(r.first_hour), DoubleArray(r.values), r.history_hours,
                    ToSqlTime(r.computed_at), fallback)[0]
                 .as<int64_t>();
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ForecastRecord>> ForecastRepository::Latest(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return std::vector<ForecastRecord>{};
  return pool_->Run(
      "reading forecasts",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<ForecastRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat(
                "SELECT DISTINCT ON (origin_region) id, resource_id::text, origin_region, model, "
                "array_to_string(parameters, ','), to_char(first_hour AT TIME ZONE 'UTC', ",
                kUtc, "), array_to_string(horizon_values, ','), history_hours, ",
                "to_char(computed_at AT TIME ZONE 'UTC', ", kUtc,
                "), COALESCE(fallback_reason, '') FROM forecasts WHERE resource_id = $1::uuid "
                "AND computed_at = (SELECT max(computed_at) FROM forecasts "
                "WHERE resource_id = $1::uuid) ORDER BY origin_region, id DESC"),
            resource_id);
        std::vector<ForecastRecord> out;
        for (const auto& row : rows) {
          ForecastRecord r;
          r.id = row[0].as<int64_t>();
          r.resource_id = row[1].as<std::string>();
          r.origin_region = row[2].as<std::string>();
          r.model = row[3].as<std::string>();
          r.parameters = ParseDoubles(row[4]);
          r.first_hour = FromSqlTime(row[5].as<std::string>());
          r.values = ParseDoubles(row[6]);
          r.history_hours = row[7].as<int>();
          r.computed_at = FromSqlTime(row[8].as<std::string>());
          r.fallback_reason = row[9].as<std::string>();
          out.push_back(std::move(r));
        }
        return out;
      });
}

absl::StatusOr<std::vector<std::string>> ForecastRepository::Due(absl::Time demand_since,
                                                                 absl::Time fresh_after,
                                                                 int limit) {
  return pool_->Run("finding resources due a forecast",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::string>> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result rows = txn.exec_params(
                          "SELECT r.id::text FROM resources r "
                          "LEFT JOIN LATERAL (SELECT max(first_hour) AS newest FROM forecasts f "
                          "  WHERE f.resource_id = r.id) f ON true "
                          "WHERE r.deleted_at IS NULL "
                          "  AND (f.newest IS NULL OR f.newest <= $2::timestamptz) "
                          "  AND EXISTS (SELECT 1 FROM demand_hourly d WHERE d.resource_id = r.id "
                          "              AND d.hour >= $1::timestamptz) "
                          "ORDER BY f.newest NULLS FIRST, r.id LIMIT $3",
                          ToSqlTime(demand_since), ToSqlTime(fresh_after), limit);
                      std::vector<std::string> out;
                      for (const auto& row : rows) out.push_back(row[0].as<std::string>());
                      return out;
                    });
}

absl::StatusOr<int64_t> ForecastRepository::PruneBefore(absl::Time cutoff) {
  return pool_->Run("pruning forecasts", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    const int64_t n = txn.exec_params("DELETE FROM forecasts WHERE computed_at < $1::timestamptz",
                                      ToSqlTime(cutoff))
                          .affected_rows();
    txn.commit();
    return n;
  });
}

}  // namespace shadowplane::store
