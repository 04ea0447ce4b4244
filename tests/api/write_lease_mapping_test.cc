// What WriteLeaseService.RenewWriteLeases refuses before it reads the database (label unit): every
// bad field is named, and an agent can ask about at most kMaxLeasesPerRenewal leases at once.
#include <string>

#include "absl/strings/match.h"
#include "api/write_lease_service.h"
#include "gtest/gtest.h"

namespace shadowplane::api {
namespace {

namespace pb = shadowplane::agent::v1;

pb::RenewWriteLeasesRequest Good() {
  pb::RenewWriteLeasesRequest request;
  request.set_location("fra-1");
  pb::HeldLease* held = request.add_leases();
  held->set_instance_id("eeeeeeee-0000-4000-8000-0000000000a1");
  held->set_epoch(3);
  return request;
}

void ExpectRefused(const pb::RenewWriteLeasesRequest& request, const std::string& field) {
  const absl::Status s = ValidateRenewal(request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), field)) << s;
}

TEST(ValidateRenewalTest, AcceptsAWellFormedRenewalAndAnEmptyOne) {
  EXPECT_TRUE(ValidateRenewal(Good()).ok());
  pb::RenewWriteLeasesRequest none = Good();
  none.clear_leases();
  EXPECT_TRUE(ValidateRenewal(none).ok());
}

TEST(ValidateRenewalTest, RefusesEachBadFieldByName) {
  pb::RenewWriteLeasesRequest request = Good();
  request.clear_location();
  ExpectRefused(request, "location");
  request.set_location(std::string(65, 'x'));
  ExpectRefused(request, "location");

  request = Good();
  request.mutable_leases(0)->set_instance_id("../etc/passwd");
  ExpectRefused(request, "leases[0].instance_id");
  request.mutable_leases(0)->set_instance_id(std::string(100000, 'a'));
  const absl::Status long_id = ValidateRenewal(request);
  EXPECT_LT(long_id.message().size(), 200u) << "a peer's string is not echoed whole";

  request = Good();
  request.mutable_leases(0)->set_epoch(0);
  ExpectRefused(request, "leases[0].epoch");
  request.mutable_leases(0)->set_epoch(-5);
  ExpectRefused(request, "leases[0].epoch");
}

TEST(ValidateRenewalTest, BoundsTheLeasesPerCall) {
  pb::RenewWriteLeasesRequest request = Good();
  while (request.leases_size() < kMaxLeasesPerRenewal) *request.add_leases() = request.leases(0);
  EXPECT_TRUE(ValidateRenewal(request).ok());
  *request.add_leases() = request.leases(0);
  ExpectRefused(request, "leases");
}

}  // namespace
}  // namespace shadowplane::api
