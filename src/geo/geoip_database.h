// A MaxMind-format (.mmdb) database, read with libmaxminddb (memory-mapped, so lookups are cheap
// and thread-safe): client IP -> origin region, from a string field of the network's record
// (by default the top-level key "region"; "country/iso_code" style paths reach nested fields).
#ifndef SHADOWPLANE_GEO_GEOIP_DATABASE_H_
#define SHADOWPLANE_GEO_GEOIP_DATABASE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "geo/ip_address.h"

namespace shadowplane::geo {

class GeoIpDatabase {
 public:
  // NOT_FOUND when `path` does not exist, FAILED_PRECONDITION when it is not a MaxMind database;
  // the message names the file. `field` is '/'-separated ("region", "country/iso_code").
  static absl::StatusOr<std::unique_ptr<GeoIpDatabase>> Open(const std::string& path,
                                                             const std::string& field = "region");
  ~GeoIpDatabase();
  GeoIpDatabase(const GeoIpDatabase&) = delete;
  GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

  // The field's value for the network holding `ip`; nullopt when no network holds it or its
  // record has no such string field. INTERNAL for a corrupt database.
  absl::StatusOr<std::optional<std::string>> Lookup(const IpAddress& ip) const;
  const std::string& path() const { return path_; }

 private:
  struct Handle;
  GeoIpDatabase(std::string path, std::vector<std::string> field);
  const std::string path_;
  const std::vector<std::string> field_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace shadowplane::geo

#endif  // SHADOWPLANE_GEO_GEOIP_DATABASE_H_
