#include "catalog/spot_price_import.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "catalog/catalog.h"
#include "common/status_macros.h"

namespace shadowplane::catalog {
namespace {

bool GoodPrice(double v) { return std::isfinite(v) && v >= 0; }

std::string Echo(const std::string& s) { return s.substr(0, 64); }

}  // namespace

absl::StatusOr<std::vector<store::PriceRecord>> PricesFromAwsHistory(
    const std::vector<AwsSpotPriceEntry>& entries, const SpotPriceMapping& mapping,
    const std::vector<store::LocationRecord>& locations, const std::string& field,
    absl::Time latest_allowed) {
  if (entries.size() > kMaxPriceEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxPriceEntries, " entries per call"));
  }
  std::map<std::string, const store::LocationRecord*> by_name;
  for (const store::LocationRecord& l : locations) by_name[l.name] = &l;
  struct Sum {
    double ratio_vcpu = 0;  // Σ ratio × vCPU
    double vcpu = 0;
  };
  std::map<std::pair<std::string, absl::Time>, Sum> sums;
  for (size_t i = 0; i < entries.size(); ++i) {
    const AwsSpotPriceEntry& e = entries[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: ", why));
    };
    const auto zone = mapping.zones.find(e.availability_zone);
    if (zone == mapping.zones.end()) {
      return bad(absl::StrCat("availability zone \"", Echo(e.availability_zone),
                              "\" is not in the locations file's aws_spot_mapping.zones"));
    }
    const auto location = by_name.find(zone->second);
    if (location == by_name.end()) {
      return bad(absl::StrCat("availability zone ", Echo(e.availability_zone), " maps to location ",
                              zone->second, ", which is not in the catalog"));
    }
    const auto type = mapping.instance_types.find(e.instance_type);
    if (type == mapping.instance_types.end()) {
      return bad(absl::StrCat("instance type \"", Echo(e.instance_type),
                              "\" is not in the locations file's aws_spot_mapping.instance_types"));
    }
    double price = 0;
    if (!absl::SimpleAtod(e.spot_price, &price) || !GoodPrice(price)) {
      return bad(
          absl::StrCat("SpotPrice \"", Echo(e.spot_price), "\" is not a finite number >= 0"));
    }
    absl::Time at;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, e.timestamp, &at, &error)) {
      return bad(absl::StrCat("Timestamp \"", Echo(e.timestamp), "\" is not RFC 3339: ", error));
    }
    if (at > latest_allowed) {
      return bad(absl::StrCat("Timestamp ", Echo(e.timestamp), " is in the future"));
    }
    Sum& sum = sums[{zone->second, at}];
    sum.ratio_vcpu += price / type->second.on_demand_price_per_hour * type->second.vcpu;
    sum.vcpu += type->second.vcpu;
  }
  std::vector<store::PriceRecord> out;
  for (const auto& [key, sum] : sums) {
    const store::LocationRecord& l = *by_name.at(key.first);
    const double ratio = sum.ratio_vcpu / sum.vcpu;
    store::PriceRecord p;
    p.location = key.first;
    p.observed_at = key.second;
    p.on_demand_price_per_vcpu_hour = l.on_demand_price_per_vcpu_hour;
    p.on_demand_price_per_gib_hour = l.on_demand_price_per_gib_hour;
    p.spot_price_per_vcpu_hour = l.on_demand_price_per_vcpu_hour * ratio;
    p.spot_price_per_gib_hour = l.on_demand_price_per_gib_hour * ratio;
    p.source = "aws-spot-price-history";
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status ValidatePriceReports(const std::vector<store::PriceRecord>& reports,
                                  const std::string& field, absl::Time latest_allowed) {
  if (reports.size() > kMaxPriceEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxPriceEntries, " entries per call"));
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    const store::PriceRecord& p = reports[i];
    const std::string at = absl::StrCat(field, "[", i, "]");
    RETURN_IF_ERROR(ValidateName(p.location, absl::StrCat(at, ".location")));
    if (p.observed_at == absl::UnixEpoch()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".observed_at is required"));
    }
    if (p.observed_at > latest_allowed) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".observed_at ", absl::FormatTime(p.observed_at), " is in the future"));
    }
    auto price = [&](double v, const char* name) -> absl::Status {
      if (GoodPrice(v)) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".", name, " must be a finite number >= 0, got ", v));
    };
    RETURN_IF_ERROR(price(p.on_demand_price_per_vcpu_hour, "on_demand_price_per_vcpu_hour"));
    RETURN_IF_ERROR(price(p.on_demand_price_per_gib_hour, "on_demand_price_per_gib_hour"));
    if (p.spot_price_per_vcpu_hour.has_value() != p.spot_price_per_gib_hour.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": spot_price_per_vcpu_hour and spot_price_per_gib_hour go together"));
    }
    if (p.spot_price_per_vcpu_hour) {
      RETURN_IF_ERROR(price(*p.spot_price_per_vcpu_hour, "spot_price_per_vcpu_hour"));
      RETURN_IF_ERROR(price(*p.spot_price_per_gib_hour, "spot_price_per_gib_hour"));
    }
    if (p.spot_availability.has_value() &&
        !(*p.spot_availability >= 0 && *p.spot_availability <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".spot_availability must be within [0, 1], got ", *p.spot_availability));
    }
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::catalog
