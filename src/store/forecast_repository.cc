#include "store/forecast_repository.h"

#include <algorithm>
#include <cmath>
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "store/hex.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
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

std::string TextArray(const std::vector<std::string>& values) {
  SqlArray array;
  for (const std::string& v : values) array.AddText(v);
  return array.Take();
}

// Names without commas (models, regions) from array_to_string(..., ',').
std::vector<std::string> ParseTexts(const pqxx::field& f) {
  return absl::StrSplit(f.c_str(), ',', absl::SkipEmpty());
}

// A value as a 16-bit share of `max` (0 when max is 0), little-endian.
void AppendShareCode(double value, double max, std::string* codes) {
  const uint16_t code =
      max > 0 ? static_cast<uint16_t>(std::lround(std::clamp(value / max, 0.0, 1.0) * 65535.0)) : 0;
  codes->push_back(static_cast<char>(code & 0xff));
  codes->push_back(static_cast<char>(code >> 8));
}

// The i-th code of `codes` back as a value.
double ShareOfCode(const std::string& codes, size_t i, double max) {
  const uint16_t code = static_cast<uint8_t>(codes[2 * i]) |
                        (static_cast<uint16_t>(static_cast<uint8_t>(codes[2 * i + 1])) << 8);
  return code / 65535.0 * max;
}

}  // namespace

absl::Status ForecastRepository::Append(std::vector<ForecastRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  return pool_->Run("storing forecasts", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    // The window sums of the computations these replace no longer stand (see UpsertPaths).
    std::vector<std::string> resources;
    for (const ForecastRecord& r : records) resources.push_back(r.resource_id);
    if (const std::optional<std::string> ids = UuidArray(resources); ids.has_value()) {
      txn.exec_params("DELETE FROM forecast_path_sums WHERE resource_id = ANY($1::uuid[])", *ids);
    }
    for (ForecastRecord& r : records) {
      std::optional<std::string> fallback, note;
      if (!r.fallback_reason.empty()) fallback = r.fallback_reason;
      if (!r.selection_note.empty()) note = r.selection_note;
      std::optional<double> smape, mase;
      if (r.backtest_origins > 0) smape = r.backtest_smape, mase = r.backtest_mase;
      r.id = txn.exec_params1(
                    "INSERT INTO forecasts (resource_id, origin_region, model, parameters, "
                    "first_hour, horizon_values, history_hours, computed_at, fallback_reason, "
                    "method, models, weights, selection_note, lead_scale, unit_quantiles, "
                    "backtest_origins, backtest_smape, backtest_mase, candidate_models, "
                    "candidate_smape, candidate_mase) "
                    "VALUES ($1::uuid, $2, $3, $4::float8[], $5::timestamptz, $6::float8[], $7, "
                    "$8::timestamptz, $9, $10, $11::text[], $12::float8[], $13, $14::float8[], "
                    "$15::float8[], $16, $17, $18, $19::text[], $20::float8[], $21::float8[]) "
                    "RETURNING id",
                    r.resource_id, r.origin_region, r.model, DoubleArray(r.parameters),
                    ToSqlTime(r.first_hour), DoubleArray(r.values), r.history_hours,
                    ToSqlTime(r.computed_at), fallback, r.method, TextArray(r.models),
                    DoubleArray(r.weights), note, DoubleArray(r.lead_scale),
                    DoubleArray(r.unit_quantiles), r.backtest_origins, smape, mase,
                    TextArray(r.candidate_models), DoubleArray(r.candidate_smape),
                    DoubleArray(r.candidate_mase))[0]
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
                "array_to_string(parameters, ','), ",
                SP_SQL_UTC("first_hour"), ", array_to_string(horizon_values, ','), history_hours, ",
                SP_SQL_UTC("computed_at"),
                ", COALESCE(fallback_reason, ''), method, array_to_string(models, ','), "
                "array_to_string(weights, ','), COALESCE(selection_note, ''), "
                "array_to_string(lead_scale, ','), array_to_string(unit_quantiles, ','), "
                "backtest_origins, COALESCE(backtest_smape, 0), COALESCE(backtest_mase, 0), "
                "array_to_string(candidate_models, ','), array_to_string(candidate_smape, ','), "
                "array_to_string(candidate_mase, ',') "
                "FROM forecasts WHERE resource_id = $1::uuid "
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
          r.method = row[10].as<std::string>();
          r.models = ParseTexts(row[11]);
          r.weights = ParseDoubles(row[12]);
          r.selection_note = row[13].as<std::string>();
          r.lead_scale = ParseDoubles(row[14]);
          r.unit_quantiles = ParseDoubles(row[15]);
          r.backtest_origins = row[16].as<int>();
          r.backtest_smape = row[17].as<double>();
          r.backtest_mase = row[18].as<double>();
          r.candidate_models = ParseTexts(row[19]);
          r.candidate_smape = ParseDoubles(row[20]);
          r.candidate_mase = ParseDoubles(row[21]);
          out.push_back(std::move(r));
        }
        return out;
      });
}

absl::Status ForecastRepository::UpsertPaths(const ForecastPathsRecord& paths,
                                             const std::vector<PathSumsRecord>& sums) {
  // Codes relative to each region and hour's maximum over the paths.
  std::string codes;
  SqlArray lead_max;
  for (const std::vector<float>& region : paths.values) {
    std::vector<float> max(paths.horizon, 0.0f);
    for (int p = 0; p < paths.paths; ++p) {
      for (int j = 0; j < paths.horizon; ++j) {
        max[j] = std::max(max[j], region[static_cast<size_t>(p) * paths.horizon + j]);
      }
    }
    for (float m : max) lead_max.AddDouble(m);
    for (int p = 0; p < paths.paths; ++p) {
      for (int j = 0; j < paths.horizon; ++j) {
        AppendShareCode(region[static_cast<size_t>(p) * paths.horizon + j], max[j], &codes);
      }
    }
  }
  std::string hex;
  AppendHex(codes, &hex);
  const std::string maxima = lead_max.Take();
  for (const PathSumsRecord& s : sums) {
    if (s.resource_id != paths.resource_id || s.computed_at != paths.computed_at ||
        s.sums.size() != static_cast<size_t>(s.paths) * s.regions.size() ||
        s.expected.size() != s.regions.size() || s.first_hour_requests.size() != s.regions.size() ||
        s.bytes_per_request.size() != s.regions.size()) {
      return absl::InvalidArgumentError(absl::StrCat("window sums of resource ", paths.resource_id,
                                                     " do not match its sample paths"));
    }
  }
  return pool_->Run("storing sample paths", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result stored = txn.exec_params(
        "INSERT INTO forecast_paths (resource_id, computed_at, first_hour, paths, horizon, "
        "regions, lead_max, codes) VALUES ($1::uuid, $2::timestamptz, $3::timestamptz, $4, $5, "
        "$6::text[], $7::real[], decode($8, 'hex')) ON CONFLICT (resource_id) DO UPDATE SET "
        "computed_at = EXCLUDED.computed_at, first_hour = EXCLUDED.first_hour, paths = "
        "EXCLUDED.paths, horizon = EXCLUDED.horizon, regions = EXCLUDED.regions, lead_max = "
        "EXCLUDED.lead_max, codes = EXCLUDED.codes WHERE forecast_paths.computed_at <= "
        "EXCLUDED.computed_at RETURNING 1",
        paths.resource_id, ToSqlTime(paths.computed_at), ToSqlTime(paths.first_hour), paths.paths,
        paths.horizon, TextArray(paths.regions), maxima, hex);
    if (stored.empty()) return absl::OkStatus();  // a newer computation is stored: keep its sums
    txn.exec_params("DELETE FROM forecast_path_sums WHERE resource_id = $1::uuid",
                    paths.resource_id);
    for (const PathSumsRecord& s : sums) {
      const size_t regions = s.regions.size();
      std::vector<double> max(regions, 0.0);
      for (size_t i = 0; i < s.sums.size(); ++i)
        max[i % regions] = std::max(max[i % regions], s.sums[i]);
      std::string sum_codes;
      for (size_t i = 0; i < s.sums.size(); ++i)
        AppendShareCode(s.sums[i], max[i % regions], &sum_codes);
      std::string sum_hex;
      AppendHex(sum_codes, &sum_hex);
      txn.exec_params(
          "INSERT INTO forecast_path_sums (resource_id, start_hour, window_hours, computed_at, "
          "paths, regions, expected, first_hour_requests, bytes_per_request, region_max, codes) "
          "VALUES ($1::uuid, $2::timestamptz, $3, $4::timestamptz, $5, $6::text[], $7::float8[], "
          "$8::float8[], $9::float8[], $10::float8[], decode($11, 'hex'))",
          s.resource_id, ToSqlTime(s.start_hour), s.window_hours, ToSqlTime(s.computed_at), s.paths,
          TextArray(s.regions), DoubleArray(s.expected), DoubleArray(s.first_hour_requests),
          DoubleArray(s.bytes_per_request), DoubleArray(max), sum_hex);
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::map<std::string, PathSumsRecord>> ForecastRepository::PathSumsAt(
    const std::vector<std::string>& resource_ids, absl::Time start_hour, int window_hours) {
  const std::optional<std::string> ids = UuidArray(resource_ids);
  std::map<std::string, PathSumsRecord> out;
  if (!ids.has_value()) return out;
  return pool_->Run(
      "reading window sums of sample paths",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, PathSumsRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT resource_id::text, ", SP_SQL_UTC("computed_at"),
                         ", paths, array_to_string(regions, ','), array_to_string(expected, ','), "
                         "array_to_string(first_hour_requests, ','), "
                         "array_to_string(bytes_per_request, ','), "
                         "array_to_string(region_max, ','), codes FROM forecast_path_sums "
                         "WHERE resource_id = ANY($1::uuid[]) AND start_hour = $2::timestamptz "
                         "AND window_hours = $3"),
            *ids, ToSqlTime(start_hour), window_hours);
        for (const auto& row : rows) {
          PathSumsRecord r;
          r.resource_id = row[0].as<std::string>();
          r.computed_at = FromSqlTime(row[1].as<std::string>());
          r.start_hour = start_hour;
          r.window_hours = window_hours;
          r.paths = row[2].as<int>();
          r.regions = ParseTexts(row[3]);
          r.expected = ParseDoubles(row[4]);
          r.first_hour_requests = ParseDoubles(row[5]);
          r.bytes_per_request = ParseDoubles(row[6]);
          const std::vector<double> max = ParseDoubles(row[7]);
          // bytea in PostgreSQL's hex output: "\x" then two digits a byte.
          absl::string_view text(row[8].c_str(), row[8].size());
          if (!absl::ConsumePrefix(&text, "\\x")) text = absl::string_view();
          const std::string codes = DecodeHex(text);
          const size_t n = r.regions.size();
          const size_t count = static_cast<size_t>(std::max(0, r.paths)) * n;
          if (n == 0 || r.expected.size() != n || r.first_hour_requests.size() != n ||
              r.bytes_per_request.size() != n || max.size() != n || codes.size() != 2 * count) {
            return absl::DataLossError(absl::StrCat("stored window sums of resource ",
                                                    r.resource_id, " are inconsistent"));
          }
          r.sums.resize(count);
          for (size_t i = 0; i < count; ++i) r.sums[i] = ShareOfCode(codes, i, max[i % n]);
          out.emplace(r.resource_id, std::move(r));
        }
        return out;
      });
}

absl::StatusOr<ForecastPathsRecord> ForecastRepository::LatestPaths(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return absl::NotFoundError("no sample paths");
  return pool_->Run(
      "reading sample paths", [&](pqxx::connection& conn) -> absl::StatusOr<ForecastPathsRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", SP_SQL_UTC("computed_at"), ", ", SP_SQL_UTC("first_hour"),
                         ", paths, horizon, array_to_string(regions, ','), "
                         "array_to_string(lead_max, ','), encode(codes, 'hex') "
                         "FROM forecast_paths WHERE resource_id = $1::uuid"),
            resource_id);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat("resource ", resource_id, " has no stored sample paths"));
        }
        ForecastPathsRecord out;
        out.resource_id = resource_id;
        out.computed_at = FromSqlTime(rows[0][0].as<std::string>());
        out.first_hour = FromSqlTime(rows[0][1].as<std::string>());
        out.paths = rows[0][2].as<int>();
        out.horizon = rows[0][3].as<int>();
        out.regions = ParseTexts(rows[0][4]);
        const std::vector<double> lead_max = ParseDoubles(rows[0][5]);
        const std::string codes = DecodeHex(rows[0][6].as<std::string>());
        const size_t per_region = static_cast<size_t>(out.paths) * out.horizon;
        if (lead_max.size() != out.regions.size() * out.horizon ||
            codes.size() != 2 * per_region * out.regions.size()) {
          return absl::DataLossError(
              absl::StrCat("stored sample paths of resource ", resource_id, " are inconsistent"));
        }
        out.values.assign(out.regions.size(), std::vector<float>(per_region));
        for (size_t r = 0; r < out.regions.size(); ++r) {
          for (size_t i = 0; i < per_region; ++i) {
            out.values[r][i] = static_cast<float>(ShareOfCode(
                codes, r * per_region + i, lead_max[r * out.horizon + i % out.horizon]));
          }
        }
        return out;
      });
}

absl::StatusOr<std::vector<UnscoredForecast>> ForecastRepository::Unscored(absl::Time before,
                                                                           int hours, int limit) {
  return pool_->Run(
      "finding forecasts to score",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<UnscoredForecast>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT id, resource_id::text, origin_region, ", SP_SQL_UTC("first_hour"),
                         ", array_to_string(horizon_values, ','), array_to_string(lead_scale, "
                         "','), array_to_string(unit_quantiles, ','), history_hours, " SP_SQL_UTC(
                             "computed_at"),
                         " FROM forecasts WHERE scored_at IS NULL AND first_hour <= "
                         "$1::timestamptz - make_interval(hours => $2) ORDER BY first_hour, id "
                         "LIMIT $3"),
            ToSqlTime(before), hours, limit);
        std::vector<UnscoredForecast> out;
        for (const auto& row : rows) {
          UnscoredForecast u;
          u.id = row[0].as<int64_t>();
          u.resource_id = row[1].as<std::string>();
          u.origin_region = row[2].as<std::string>();
          u.first_hour = FromSqlTime(row[3].as<std::string>());
          u.values = ParseDoubles(row[4]);
          u.lead_scale = ParseDoubles(row[5]);
          u.unit_quantiles = ParseDoubles(row[6]);
          u.history_hours = row[7].as<int>();
          u.computed_at = FromSqlTime(row[8].as<std::string>());
          out.push_back(std::move(u));
        }
        return out;
      });
}

absl::Status ForecastRepository::RecordScores(const std::vector<ForecastScore>& scores,
                                              absl::Time scored_at) {
  if (scores.empty()) return absl::OkStatus();
  SqlArray ids, hours, smape, mase, hits80, hits95;
  for (const ForecastScore& s : scores) {
    ids.AddInt(s.id);
    hours.AddInt(s.hours);
    smape.AddDouble(s.smape);
    mase.AddDouble(s.mase);
    hits80.AddInt(s.hits_80);
    hits95.AddInt(s.hits_95);
  }
  // Built once: a retried transaction reuses them.
  const std::string id_array = ids.Take(), hour_array = hours.Take(), smape_array = smape.Take(),
                    mase_array = mase.Take(), hits80_array = hits80.Take(),
                    hits95_array = hits95.Take();
  return pool_->Run("recording forecast scores", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE forecasts f SET scored_at = $7::timestamptz, scored_hours = s.hours, "
        "realized_smape = s.smape, realized_mase = s.mase, hits_80 = s.h80, hits_95 = s.h95 "
        "FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::float8[], $5::int[], $6::int[]) "
        "AS s(id, hours, smape, mase, h80, h95) WHERE f.id = s.id AND f.scored_at IS NULL",
        id_array, hour_array, smape_array, mase_array, hits80_array, hits95_array,
        ToSqlTime(scored_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RealizedAccuracy>> ForecastRepository::Realized(
    const std::string& resource_id, absl::Time since) {
  if (!LooksLikeUuid(resource_id)) return std::vector<RealizedAccuracy>{};
  return pool_->Run(
      "reading forecast accuracy",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<RealizedAccuracy>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT origin_region, count(*), avg(realized_smape), avg(realized_mase), "
            "sum(hits_80)::float8 / NULLIF(sum(scored_hours), 0), "
            "sum(hits_95)::float8 / NULLIF(sum(scored_hours), 0) FROM forecasts "
            "WHERE resource_id = $1::uuid AND scored_at IS NOT NULL AND first_hour >= "
            "$2::timestamptz GROUP BY origin_region ORDER BY origin_region",
            resource_id, ToSqlTime(since));
        std::vector<RealizedAccuracy> out;
        for (const auto& row : rows) {
          RealizedAccuracy a;
          a.origin_region = row[0].as<std::string>();
          a.forecasts = row[1].as<int>();
          a.mean_smape = row[2].is_null() ? 0 : row[2].as<double>();
          a.mean_mase = row[3].is_null() ? 0 : row[3].as<double>();
          a.coverage_80 = row[4].is_null() ? 0 : row[4].as<double>();
          a.coverage_95 = row[5].is_null() ? 0 : row[5].as<double>();
          out.push_back(std::move(a));
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
