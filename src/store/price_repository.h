// Prices as observed over time (`location_prices`, migrations/0017_spot.sql): on-demand and spot
// prices per vCPU-hour and GiB-hour and spot availability, per location, from providers
// (LocationService.ReportPrices) or an imported price history (shadowctl prices import).
// Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_PRICE_REPOSITORY_H_
#define SHADOWPLANE_STORE_PRICE_REPOSITORY_H_

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct PriceRecord {
  std::string location;
  absl::Time observed_at;
  double on_demand_price_per_vcpu_hour = 0;
  double on_demand_price_per_gib_hour = 0;
  // Both or neither: absent, no spot offered then.
  std::optional<double> spot_price_per_vcpu_hour;
  std::optional<double> spot_price_per_gib_hour;
  // Absent: not reported (the location's own value stands).
  std::optional<double> spot_availability;
  std::string source;  // "provider", "aws-spot-price-history", "interruption", ...
};

// A location's observations as the planner reads them, oldest first.
struct PriceHistory {
  std::vector<PriceRecord> observations;
  // When spot came back: the first observation after the last one that said spot was gone (not
  // offered, or availability 0). Absent when spot was never reported gone (it has been there all
  // along), or when the latest says it is gone. Computed over the whole stored history, not only
  // `observations`.
  std::optional<absl::Time> spot_available_since;
};

// Observations older than this before a location's latest are deleted when it records new ones.
inline constexpr absl::Duration kPriceRetention = absl::Hours(24 * 30);

// How far back from a location's latest observation its history reaches.
inline constexpr absl::Duration kPriceHistoryWindow = absl::Hours(24);

// Per location that has observations (only `location` unless empty): those within
// kPriceHistoryWindow of its latest, and when spot became available again. For
// LocationRepository::LoadAll, which reads the catalog and its prices in one transaction.
std::map<std::string, PriceHistory> ReadPriceHistories(pqxx::transaction_base& txn,
                                                       const std::string& location);

class PriceRepository {
 public:
  explicit PriceRepository(ConnectionPool* pool) : pool_(pool) {}

  // Stores every record in one transaction (all or nothing); a record at the same location and
  // time as a stored one replaces it, so that an import may be run again; history older than
  // kPriceRetention before a location's latest is deleted. NOT_FOUND naming the first record whose
  // location is unknown (nothing stored).
  absl::Status Record(const std::vector<PriceRecord>& records, absl::Time recorded_at);

  // The history of one location (empty when it has none).
  absl::StatusOr<PriceHistory> History(const std::string& location);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_PRICE_REPOSITORY_H_
