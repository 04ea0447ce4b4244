#include "common/request_text.h"

#include <string>

#include "gtest/gtest.h"
#include "shadowplane/agent/v1/sync.pb.h"
#include "shadowplane/v1/audit.pb.h"
#include "shadowplane/v1/reservations.pb.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

const std::string kNul("\0", 1);

TEST(RequestTextTest, RequestsWithoutNulPass) {
  pb::ReserveRequest r;
  r.set_request_id("r1");
  r.set_name("shop: ünïcode, spaces\tand\nnewlines are text");
  r.mutable_placement()->add_regions("eu-central");
  r.mutable_planner()->set_mode("auto");
  EXPECT_TRUE(CheckRequestText(r).ok());
  EXPECT_TRUE(CheckRequestText(pb::ReserveRequest()).ok());
}

TEST(RequestTextTest, ANulIsRefusedByTheFieldsPath) {
  pb::ReserveRequest r;
  r.set_request_id("r1");
  r.set_name("a" + kNul + "b");
  absl::Status s = CheckRequestText(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "name contains a NUL character, which cannot be stored");

  r.set_name("a");
  r.mutable_placement()->add_locations("fra-1");
  r.mutable_placement()->add_locations(kNul);
  EXPECT_EQ(CheckRequestText(r).message(),
            "placement.locations[1] contains a NUL character, which cannot be stored");

  r.mutable_placement()->clear_locations();
  r.mutable_placement()->add_client_regions()->set_region("eu");
  r.mutable_placement()->add_client_regions()->set_region("us" + kNul);
  EXPECT_EQ(CheckRequestText(r).message(),
            "placement.client_regions[1].region contains a NUL character, which cannot be stored");

  r.mutable_placement()->clear_client_regions();
  r.mutable_planner()->set_pinned_location(kNul);  // an optional field of a nested message
  EXPECT_EQ(CheckRequestText(r).message(),
            "planner.pinned_location contains a NUL character, which cannot be stored");
}

TEST(RequestTextTest, MapEntriesAreNamedByTheirKey) {
  pb::AuditEvent e;
  (*e.mutable_targets())["reservation_id"] = "x" + kNul;
  EXPECT_EQ(CheckRequestText(e).message(),
            "targets[reservation_id] contains a NUL character, which cannot be stored");
  e.mutable_targets()->clear();
  (*e.mutable_targets())["k" + kNul] = "v";
  EXPECT_EQ(CheckRequestText(e).message(),
            "targets[0] (key) contains a NUL character, which cannot be stored");
}

TEST(RequestTextTest, BytesFieldsMayHoldAnyByte) {
  agent::v1::PullRequest p;
  p.mutable_file()->set_path("a");
  p.mutable_file()->set_signature(std::string("\0\0\x01", 3));
  EXPECT_TRUE(CheckRequestText(p).ok());
  p.mutable_file()->set_path("a" + kNul);
  EXPECT_EQ(CheckRequestText(p).message(),
            "file.path contains a NUL character, which cannot be stored");
}

}  // namespace
}  // namespace shadowplane
