#include "cli/load_plan.h"

#include <arpa/inet.h>
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "forecast/synthetic_trace.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::cli {

namespace {

// Uniform in [0, 1) from the generator's top 53 bits (the same on every standard library).
double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) / static_cast<double>(uint64_t{1} << 53);
}

}  // namespace

absl::StatusOr<LoadTrace> ReadLoadTrace(const std::string& source) {
  LoadTrace out;
  if (source == "synthetic") {
    absl::StatusOr<forecast::Trace> trace =
        forecast::GenerateTrace(forecast::DefaultTraceProfile());
    if (!trace.ok()) return trace.status();
    out.start = trace->start;
    for (size_t r = 0; r < trace->regions.size(); ++r) {
      out.regions.push_back(trace->regions[r].name);
      out.demand.push_back(trace->demand[r]);
    }
    return out;
  }
  DIR* dir = opendir(source.c_str());
  if (dir == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("trace folder ", source,
                     " is absent (want \"synthetic\" or a folder of "
                     "<REGION>.csv files in the EIA regional demand format)"));
  }
  std::vector<std::string> files;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (absl::EndsWith(name, ".csv")) files.push_back(name);
  }
  closedir(dir);
  std::sort(files.begin(), files.end());
  if (files.empty()) return absl::NotFoundError(absl::StrCat(source, " holds no .csv file"));
  for (const std::string& name : files) {
    const std::string path = absl::StrCat(source, "/", name);
    absl::StatusOr<forecast::DemandSeries> s = forecast::ReadDemandCsv(path);
    if (!s.ok()) return s.status();
    for (size_t i = 0; i < s->values.size(); ++i) {
      const double v = s->values[i];
      const std::string where = absl::StrCat(
          path, ", line ", i + 2, " (hour ",
          absl::FormatTime("%Y-%m-%dT%H:00Z", s->start + absl::Hours(i), absl::UTCTimeZone()), ")");
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": the hour is missing or empty"));
      }
      if (v < 0) return absl::InvalidArgumentError(absl::StrCat(where, ": negative demand"));
    }
    if (!out.regions.empty() &&
        (s->start != out.start || s->values.size() != out.demand[0].size())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": covers other hours than ", out.regions[0], ".csv"));
    }
    out.start = s->start;
    out.regions.push_back(name.substr(0, name.size() - 4));
    out.demand.push_back(std::move(s->values));
    out.files.push_back(path);
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadRegionNetworks(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("locations file ", path, ": ", e.what()));
  }
  std::map<std::string, std::string> out;
  int index = 0;
  for (const YAML::Node& n : root["networks"]) {
    std::string cidr, region;
    try {
      cidr = n["cidr"].as<std::string>();
      region = n["region"].as<std::string>();
    } catch (const YAML::Exception&) {
      return absl::InvalidArgumentError(
          absl::StrCat("locations file ", path, ", networks[", index, "]: want cidr and region"));
    }
    ++index;
    if (cidr.find(':') != std::string::npos) continue;  // IPv4 networks serve as sources
    out.emplace(region, cidr);                          // the first of a region's
  }
  return out;
}

absl::StatusOr<LoadPlan> PlanLoad(const LoadTrace& trace,
                                  const std::map<std::string, std::string>& networks,
                                  const LoadPlanOptions& o) {
  auto bad = [](const std::string& what) { return absl::InvalidArgumentError(what); };
  if (o.hours < 1 || o.from_hour < 0 || o.from_hour + o.hours > trace.hours()) {
    return bad(absl::StrCat("--from_hour and --hours must lie within the trace's ", trace.hours(),
                            " hours"));
  }
  if (!(o.requests_per_unit > 0) || !std::isfinite(o.requests_per_unit)) {
    return bad("--requests_per_unit must be positive");
  }
  if (!(o.time_scale >= 1) || !std::isfinite(o.time_scale) || o.time_scale > 3.6e6) {
    return bad("--time_scale must be within [1, 3600000]");
  }
  if (!(o.write_share >= 0 && o.write_share <= 1))
    return bad("--write_share must be within [0, 1]");
  if (o.clients_per_region < 1 || o.clients_per_region > 60000) {
    return bad("--clients_per_region must be 1 to 60000");
  }
  // Each region's client addresses: the first `clients_per_region` hosts of its network.
  std::vector<uint32_t> base(trace.regions.size());
  for (size_t r = 0; r < trace.regions.size(); ++r) {
    const auto it = networks.find(trace.regions[r]);
    if (it == networks.end()) {
      const std::string from =
          r < trace.files.size() ? absl::StrCat(" (", trace.files[r], ")") : std::string();
      return bad(absl::StrCat("region ", trace.regions[r], from,
                              " has no client network in the locations file's networks:"));
    }
    const std::vector<std::string> parts = absl::StrSplit(it->second, '/');
    in_addr address;
    int bits = 0;
    if (parts.size() != 2 || inet_pton(AF_INET, parts[0].c_str(), &address) != 1 ||
        !absl::SimpleAtoi(parts[1], &bits) || bits < 0 || bits > 30) {
      return bad(absl::StrCat("region ", trace.regions[r], ": network ", it->second,
                              " is not an IPv4 CIDR with room for clients"));
    }
    if ((int64_t{1} << (32 - bits)) - 2 < o.clients_per_region) {
      return bad(absl::StrCat("region ", trace.regions[r], ": network ", it->second,
                              " has room for fewer than ", o.clients_per_region, " clients"));
    }
    base[r] = ntohl(address.s_addr);
  }
  LoadPlan plan;
  const absl::Duration real_hour = absl::Seconds(3600.0 / o.time_scale);
  plan.duration = real_hour * o.hours;
  plan.per_hour.assign(trace.regions.size(), std::vector<int64_t>(static_cast<size_t>(o.hours)));
  std::mt19937_64 rng(o.seed);
  int64_t total = 0;
  for (int h = 0; h < o.hours; ++h) {
    for (size_t r = 0; r < trace.regions.size(); ++r) {
      const double value = trace.demand[r][static_cast<size_t>(o.from_hour + h)];
      const int64_t n = std::llround(value * o.requests_per_unit);
      plan.per_hour[r][static_cast<size_t>(h)] = n;
      total += n;
      if (total > o.max_requests) {
        return bad(absl::StrCat("the plan holds more than --max_requests=", o.max_requests,
                                " requests; lower --requests_per_unit or --hours"));
      }
      for (int64_t i = 0; i < n; ++i) {
        PlannedRequest q;
        // Spread over the hour: evenly, each jittered within its slot.
        q.at = real_hour * h +
               real_hour * ((static_cast<double>(i) + Uniform(rng)) / static_cast<double>(n));
        q.region = static_cast<int>(r);
        q.client = static_cast<int>(Uniform(rng) * o.clients_per_region);
        q.write = Uniform(rng) < o.write_share;
        q.hour = o.from_hour + h;
        in_addr a;
        a.s_addr = htonl(base[r] + 1 + static_cast<uint32_t>(q.client));
        char text[INET_ADDRSTRLEN];
        q.source_address = inet_ntop(AF_INET, &a, text, sizeof(text));
        plan.requests.push_back(std::move(q));
      }
    }
  }
  std::stable_sort(plan.requests.begin(), plan.requests.end(),
                   [](const PlannedRequest& a, const PlannedRequest& b) { return a.at < b.at; });
  return plan;
}

}  // namespace shadowplane::cli
