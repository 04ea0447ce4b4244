#include "store/location_repository.h"

#include <limits>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sql_time.h"

namespace shadowplane::store {
namespace {

constexpr char kLocationColumns[] =
    "l.name, l.region, l.latitude, l.longitude, l.agent_endpoint, "
    "l.on_demand_price_per_vcpu_hour, l.on_demand_price_per_gib_hour, l.spot_price_per_vcpu_hour, "
    "l.spot_price_per_gib_hour, l.spot_availability, l.bandwidth_price_per_gb, "
    "l.electricity_price_per_kwh, l.power_draw_watts_per_vcpu, l.capacity_millicores, "
    "l.capacity_memory_mib, " SP_SQL_UTC("l.updated_at") ", "
    "COALESCE(u.millicores, 0), COALESCE(u.memory_mib, 0), l.cordoned, l.cordon_reason, "
    SP_SQL_UTC("l.lost_at") ", l.lost_reason, " SP_SQL_UTC("l.healthy_since") ", "
    SP_SQL_UTC("l.drain_started_at");

constexpr char kLocationFrom[] =
    " FROM locations l LEFT JOIN (SELECT location, sum(capacity_millicores) AS millicores, "
    "sum(memory_mib) AS memory_mib FROM instances WHERE state NOT IN ('stopped', 'failed') "
    "GROUP BY location) u ON u.location = l.name ";

LocationRecord LocationFromRow(const pqxx::row& r) {
  LocationRecord l;
  l.name = r[0].as<std::string>();
  l.region = r[1].as<std::string>();
  l.latitude = r[2].as<double>();
  l.longitude = r[3].as<double>();
  l.agent_endpoint = r[4].as<std::string>();
  l.on_demand_price_per_vcpu_hour = r[5].as<double>();
  l.on_demand_price_per_gib_hour = r[6].as<double>();
  if (!r[7].is_null()) l.spot_price_per_vcpu_hour = r[7].as<double>();
  if (!r[8].is_null()) l.spot_price_per_gib_hour = r[8].as<double>();
  l.spot_availability = r[9].as<double>();
  l.bandwidth_price_per_gb = r[10].as<double>();
  l.electricity_price_per_kwh = r[11].as<double>();
  l.power_draw_watts_per_vcpu = r[12].as<double>();
  l.capacity_millicores = r[13].as<int64_t>();
  l.capacity_memory_mib = r[14].as<int64_t>();
  l.updated_at = FromSqlTime(r[15].as<std::string>());
  l.used_millicores = r[16].as<int64_t>();
  l.used_memory_mib = r[17].as<int64_t>();
  l.cordoned = r[18].as<bool>();
  l.cordon_reason = r[19].as<std::string>();
  if (!r[20].is_null()) l.lost_at = FromSqlTime(r[20].as<std::string>());
  l.lost_reason = r[21].as<std::string>();
  if (!r[22].is_null()) l.healthy_since = FromSqlTime(r[22].as<std::string>());
  if (!r[23].is_null()) l.drain_started_at = FromSqlTime(r[23].as<std::string>());
  return l;
}

RegionRecord RegionFromRow(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<double>(), r[3].as<double>(),
          FromSqlTime(r[4].as<std::string>())};
}

constexpr char kRegionSelect[] =
    "SELECT name, display_name, latitude, longitude, " SP_SQL_UTC("updated_at") " FROM regions ";

}  // namespace

absl::Status LocationRepository::UpsertRegion(const RegionRecord& r) {
  return pool_->Run("upserting a region", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO regions (name, display_name, latitude, longitude, updated_at) "
        "VALUES ($1, $2, $3, $4, $5::timestamptz) ON CONFLICT (name) DO UPDATE SET "
        "display_name = EXCLUDED.display_name, latitude = EXCLUDED.latitude, "
        "longitude = EXCLUDED.longitude, updated_at = EXCLUDED.updated_at",
        r.name, r.display_name, r.latitude, r.longitude, ToSqlTime(r.updated_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<RegionRecord> LocationRepository::GetRegion(const std::string& name) {
  return pool_->Run(
      "reading a region", [&](pqxx::connection& conn) -> absl::StatusOr<RegionRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r =
            txn.exec_params(std::string(kRegionSelect) + "WHERE name = $1", name);
        if (r.empty())
          return absl::NotFoundError(absl::StrCat("region '", name, "' does not exist"));
        return RegionFromRow(r[0]);
      });
}

absl::StatusOr<std::vector<RegionRecord>> LocationRepository::ListRegions(const Page& page) {
  return pool_->Run(
      "listing regions", [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<RegionRecord>> {
        pqxx::read_transaction txn(conn);
        std::vector<RegionRecord> out;
        for (const auto& row :
             txn.exec_params(std::string(kRegionSelect) + "WHERE name > $1 ORDER BY name LIMIT $2",
                             page.after, page.page_size)) {
          out.push_back(RegionFromRow(row));
        }
        return out;
      });
}

absl::Status LocationRepository::DeleteRegion(const std::string& name) {
  return pool_->Run("deleting a region", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const int64_t locations =
        txn.exec_params1("SELECT count(*) FROM locations WHERE region = $1", name)[0].as<int64_t>();
    if (locations > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("region '", name, "' still holds ", locations, " location(s)"));
    }
    if (txn.exec_params("DELETE FROM regions WHERE name = $1", name).affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("region '", name, "' does not exist"));
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status LocationRepository::UpsertLocation(const LocationRecord& l) {
  return pool_->Run("upserting a location", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    if (txn.exec_params("SELECT 1 FROM regions WHERE name = $1", l.region).empty()) {
      return absl::NotFoundError(absl::StrCat("region '", l.region, "' does not exist"));
    }
    txn.exec_params(
        "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
        "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, spot_price_per_vcpu_hour, "
        "spot_price_per_gib_hour, spot_availability, bandwidth_price_per_gb, "
        "electricity_price_per_kwh, power_draw_watts_per_vcpu, capacity_millicores, "
        "capacity_memory_mib, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
        "$12, $13, $14, $15, $16::timestamptz) ON CONFLICT (name) DO UPDATE SET "
        "region = EXCLUDED.region, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, "
        "agent_endpoint = EXCLUDED.agent_endpoint, "
        "on_demand_price_per_vcpu_hour = EXCLUDED.on_demand_price_per_vcpu_hour, "
        "on_demand_price_per_gib_hour = EXCLUDED.on_demand_price_per_gib_hour, "
        "spot_price_per_vcpu_hour = EXCLUDED.spot_price_per_vcpu_hour, "
        "spot_price_per_gib_hour = EXCLUDED.spot_price_per_gib_hour, "
        "spot_availability = EXCLUDED.spot_availability, "
        "bandwidth_price_per_gb = EXCLUDED.bandwidth_price_per_gb, "
        "electricity_price_per_kwh = EXCLUDED.electricity_price_per_kwh, "
        "power_draw_watts_per_vcpu = EXCLUDED.power_draw_watts_per_vcpu, "
        "capacity_millicores = EXCLUDED.capacity_millicores, "
        "capacity_memory_mib = EXCLUDED.capacity_memory_mib, updated_at = EXCLUDED.updated_at",
        l.name, l.region, l.latitude, l.longitude, l.agent_endpoint,
        l.on_demand_price_per_vcpu_hour, l.on_demand_price_per_gib_hour, l.spot_price_per_vcpu_hour,
        l.spot_price_per_gib_hour, l.spot_availability, l.bandwidth_price_per_gb,
        l.electricity_price_per_kwh, l.power_draw_watts_per_vcpu, l.capacity_millicores,
        l.capacity_memory_mib, ToSqlTime(l.updated_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<LocationRecord> LocationRepository::GetLocation(const std::string& name) {
  return pool_->Run(
      "reading a location", [&](pqxx::connection& conn) -> absl::StatusOr<LocationRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            absl::StrCat("SELECT ", kLocationColumns, kLocationFrom, "WHERE l.name = $1"), name);
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat("location '", name, "' does not exist"));
        }
        return LocationFromRow(r[0]);
      });
}

absl::StatusOr<std::vector<LocationRecord>> LocationRepository::ListLocations(
    const Page& page, const std::string& region) {
  return pool_->Run("listing locations",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<LocationRecord>> {
                      pqxx::read_transaction txn(conn);
                      std::vector<LocationRecord> out;
                      for (const auto& row : txn.exec_params(
                               absl::StrCat("SELECT ", kLocationColumns, kLocationFrom,
                                            "WHERE l.name > $1 AND ($2 = '' OR l.region = $2) "
                                            "ORDER BY l.name LIMIT $3"),
                               page.after, region, page.page_size)) {
                        out.push_back(LocationFromRow(row));
                      }
                      return out;
                    });
}

absl::Status LocationRepository::DeleteLocation(const std::string& name) {
  return pool_->Run("deleting a location", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const int64_t live = txn.exec_params1(
                                "SELECT count(*) FROM instances WHERE location = $1 AND state "
                                "NOT IN ('stopped', 'failed')",
                                name)[0]
                             .as<int64_t>();
    if (live > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("location '", name, "' still runs ", live, " live instance(s)"));
    }
    // Stopped instances keep history; they no longer pin the location.
    txn.exec_params("DELETE FROM instances WHERE location = $1", name);
    if (txn.exec_params("DELETE FROM locations WHERE name = $1", name).affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("location '", name, "' does not exist"));
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<LocationRecord> LocationRepository::SetCordon(const std::string& name, bool cordoned,
                                                             const std::string& reason) {
  RETURN_IF_ERROR(pool_->Run("cordoning a location", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    if (txn.exec_params("UPDATE locations SET cordoned = $2, cordon_reason = $3 WHERE name = $1",
                        name, cordoned, cordoned ? reason : std::string())
            .affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("location '", name, "' does not exist"));
    }
    txn.commit();
    return absl::OkStatus();
  }));
  return GetLocation(name);
}

absl::Status LocationRepository::UpdateOne(const char* what, const std::string& name,
                                           const std::function<pqxx::result(pqxx::work&)>& update) {
  return pool_->Run(what, [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    if (update(txn).affected_rows() == 0 &&
        txn.exec_params("SELECT 1 FROM locations WHERE name = $1", name).empty()) {
      return absl::NotFoundError(absl::StrCat("location '", name, "' does not exist"));
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status LocationRepository::MarkLost(const std::string& name, absl::Time at,
                                          const std::string& reason) {
  return UpdateOne("recording a lost location", name, [&](pqxx::work& txn) {
    return txn.exec_params(
        "UPDATE locations SET lost_at = COALESCE(lost_at, $2::timestamptz), lost_reason = CASE "
        "WHEN lost_at IS NULL THEN $3 ELSE lost_reason END, healthy_since = NULL WHERE name = $1",
        name, ToSqlTime(at), reason);
  });
}

absl::Status LocationRepository::MarkAnswering(const std::string& name, absl::Time at) {
  return UpdateOne("recording a location answering again", name, [&](pqxx::work& txn) {
    return txn.exec_params(
        "UPDATE locations SET healthy_since = $2::timestamptz WHERE name = $1 AND lost_at IS NOT "
        "NULL AND healthy_since IS NULL",
        name, ToSqlTime(at));
  });
}

absl::Status LocationRepository::MarkRecovered(const std::string& name) {
  return UpdateOne("recording a recovered location", name, [&](pqxx::work& txn) {
    return txn.exec_params(
        "UPDATE locations SET lost_at = NULL, lost_reason = '', healthy_since = NULL WHERE name = "
        "$1",
        name);
  });
}

absl::StatusOr<LocationRecord> LocationRepository::SetDrain(const std::string& name,
                                                            std::optional<absl::Time> at,
                                                            const std::string& reason) {
  RETURN_IF_ERROR(UpdateOne("draining a location", name, [&](pqxx::work& txn) {
    if (!at.has_value()) {
      return txn.exec_params(
          "UPDATE locations SET drain_started_at = NULL, cordoned = false, cordon_reason = '' "
          "WHERE name = $1",
          name);
    }
    return txn.exec_params(
        "UPDATE locations SET drain_started_at = COALESCE(drain_started_at, $2::timestamptz), "
        "cordoned = true, cordon_reason = $3 WHERE name = $1",
        name, ToSqlTime(*at), reason);
  }));
  return GetLocation(name);
}

absl::StatusOr<LocationCatalog> LocationRepository::LoadAll() {
  Page all;
  all.page_size = std::numeric_limits<int>::max();
  LocationCatalog catalog;
  ASSIGN_OR_RETURN(catalog.regions, ListRegions(all));
  ASSIGN_OR_RETURN(catalog.locations, ListLocations(all, ""));
  using Histories = std::map<std::string, PriceHistory>;
  ASSIGN_OR_RETURN(
      catalog.prices,
      pool_->Run("reading prices", [](pqxx::connection& conn) -> absl::StatusOr<Histories> {
        pqxx::read_transaction txn(conn);
        return ReadPriceHistories(txn, "");
      }));
  return catalog;
}

}  // namespace shadowplane::store
