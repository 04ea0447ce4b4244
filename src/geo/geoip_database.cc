#include "geo/geoip_database.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shadowplane::geo {

struct GeoIpDatabase::Handle {
  MMDB_s mmdb{};
  bool open = false;
  ~Handle() {
    if (open) MMDB_close(&mmdb);
  }
};

GeoIpDatabase::GeoIpDatabase(std::string path, std::vector<std::string> field)
    : path_(std::move(path)), field_(std::move(field)), handle_(std::make_unique<Handle>()) {}

GeoIpDatabase::~GeoIpDatabase() = default;

absl::StatusOr<std::unique_ptr<GeoIpDatabase>> GeoIpDatabase::Open(const std::string& path,
                                                                   const std::string& field) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("GeoIP database ", path, " does not exist"));
  }
  std::vector<std::string> parts = absl::StrSplit(field, '/', absl::SkipEmpty());
  if (parts.empty()) return absl::InvalidArgumentError("GeoIP field must not be empty");
  std::unique_ptr<GeoIpDatabase> db(new GeoIpDatabase(path, std::move(parts)));
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->handle_->mmdb);
  if (status != MMDB_SUCCESS) {
    return absl::FailedPreconditionError(
        absl::StrCat("GeoIP database ", path, " cannot be read: ", MMDB_strerror(status)));
  }
  db->handle_->open = true;
  return db;
}

absl::StatusOr<std::optional<std::string>> GeoIpDatabase::Lookup(const IpAddress& ip) const {
  sockaddr_in6 address{};
  sockaddr_in address4{};
  const sockaddr* sa;
  if (ip.v4) {
    address4.sin_family = AF_INET;
    memcpy(&address4.sin_addr, ip.bytes.data() + 12, 4);
    sa = reinterpret_cast<const sockaddr*>(&address4);
  } else {
    address.sin6_family = AF_INET6;
    memcpy(&address.sin6_addr, ip.bytes.data(), 16);
    sa = reinterpret_cast<const sockaddr*>(&address);
  }
  int error = MMDB_SUCCESS;
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&handle_->mmdb, sa, &error);
  if (error != MMDB_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("GeoIP lookup in ", path_, " failed: ", MMDB_strerror(error)));
  }
  if (!result.found_entry) return std::nullopt;
  std::vector<const char*> lookup_path;
  for (const std::string& part : field_) lookup_path.push_back(part.c_str());
  lookup_path.push_back(nullptr);
  MMDB_entry_data_s data{};
  error = MMDB_aget_value(&result.entry, &data, lookup_path.data());
  if (error == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) return std::nullopt;
  if (error != MMDB_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("GeoIP record in ", path_, " unreadable: ", MMDB_strerror(error)));
  }
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return std::nullopt;
  return std::string(data.utf8_string, data.data_size);
}

}  // namespace shadowplane::geo
