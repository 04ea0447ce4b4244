// A small MaxMind-format database for tests, built with Debian's Perl MaxMind::DB::Writer:
//   192.0.2.0/24    -> region eu-central (and country.iso_code DE)
//   198.51.100.0/24 -> region ap-southeast
//   2001:db8::/32   -> region us-east
//   203.0.113.0/24  -> a record without a region
// Reserved networks (documentation ranges) are kept on purpose: they are what tests use.
#ifndef SHADOWPLANE_TESTS_SUPPORT_GEOIP_TEST_DATABASE_H_
#define SHADOWPLANE_TESTS_SUPPORT_GEOIP_TEST_DATABASE_H_

#include <string>

#include "absl/status/statusor.h"

namespace shadowplane::testing {

// Writes the database into `dir` and returns its path; INTERNAL with Perl's output on failure.
absl::StatusOr<std::string> BuildGeoIpTestDatabase(const std::string& dir);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_GEOIP_TEST_DATABASE_H_
