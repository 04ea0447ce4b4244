// EventService messages <-> the registry's structs: what only the wire can get wrong (timestamps
// out of range) is refused with the field named; unset times stay unset for the registry to name.
#include "api/event_mapping.h"

#include "absl/strings/match.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace shadowplane::api {
namespace {

namespace pb = shadowplane::v1;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

pb::RegisterEventRequest Campaign() {
  pb::RegisterEventRequest r;
  r.set_request_id("launch-1");
  r.set_kind("campaign");
  r.set_name("winter sale");
  r.add_resource_ids("bbbbbbbb-0000-4000-8000-000000000001");
  r.add_regions("eu");
  *r.mutable_start_time() = ToProtoTime(kStart);
  *r.mutable_end_time() = ToProtoTime(kStart + absl::Hours(10));
  r.set_expected_uplift(1.5);
  return r;
}

TEST(EventMappingTest, ARegistrationCarriesEveryField) {
  absl::StatusOr<forecast::EventRegistration> r = FromProto(Campaign());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request_id, "launch-1");
  EXPECT_EQ(r->kind, "campaign");
  EXPECT_EQ(r->name, "winter sale");
  EXPECT_EQ(r->resource_ids, std::vector<std::string>{"bbbbbbbb-0000-4000-8000-000000000001"});
  EXPECT_EQ(r->regions, std::vector<std::string>{"eu"});
  EXPECT_EQ(r->starts_at, kStart);
  EXPECT_EQ(r->ends_at, kStart + absl::Hours(10));
  EXPECT_EQ(r->expected_uplift, 1.5);
  // Unset stays unset: the registry names what is missing.
  pb::RegisterEventRequest bare;
  absl::StatusOr<forecast::EventRegistration> empty = FromProto(bare);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->starts_at.has_value());
  EXPECT_FALSE(empty->ends_at.has_value());
  EXPECT_FALSE(empty->expected_uplift.has_value());
}

TEST(EventMappingTest, TimestampsOutOfRangeAreRefusedNamingTheField) {
  struct Case {
    std::function<void(pb::RegisterEventRequest&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.mutable_start_time()->set_nanos(-1); }, "start_time"},
      {[](auto& r) { r.mutable_start_time()->set_nanos(1000000000); }, "start_time"},
      {[](auto& r) { r.mutable_end_time()->set_seconds(int64_t{1} << 60); }, "end_time"},
      {[](auto& r) { r.mutable_end_time()->set_seconds(-(int64_t{1} << 60)); }, "end_time"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    pb::RegisterEventRequest r = Campaign();
    cases[i].spoil(r);
    absl::StatusOr<forecast::EventRegistration> mapped = FromProto(r);
    ASSERT_FALSE(mapped.ok()) << i;
    EXPECT_EQ(mapped.status().code(), absl::StatusCode::kInvalidArgument) << i;
    EXPECT_TRUE(absl::StartsWith(mapped.status().message(), cases[i].field)) << mapped.status();
  }
  pb::ListEventsRequest list;
  list.mutable_ending_after()->set_nanos(-1);
  absl::StatusOr<forecast::EventQuery> query = FromProto(list);
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(query.status().message(), "ending_after")) << query.status();
  list.mutable_ending_after()->set_nanos(0);
  list.mutable_ending_after()->set_seconds(1767225600);
  list.set_page_size(7);
  list.set_page_token("t");
  list.set_kind("news");
  query = FromProto(list);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->ending_after, kStart);
  EXPECT_EQ(query->page_size, 7);
  EXPECT_EQ(query->page_token, "t");
  EXPECT_EQ(query->kind, "news");
}

TEST(EventMappingTest, AnEventWithOutcomesReportsEachUpliftAndNoneForAZeroBaseline) {
  forecast::EventWithOutcomes e;
  e.event.id = "cccccccc-0000-4000-8000-000000000001";
  e.event.kind = "campaign";
  e.event.starts_at = kStart;
  e.event.ends_at = kStart + absl::Hours(2);
  e.event.created_at = kStart - absl::Hours(1);
  e.outcomes.push_back({e.event.id, "r1", 2, 300, 100});
  e.outcomes.push_back({e.event.id, "r2", 2, 50, 0});
  pb::Event out;
  ToProto(e, &out);
  EXPECT_EQ(out.event_id(), e.event.id);
  EXPECT_FALSE(out.has_expected_uplift());
  EXPECT_FALSE(out.has_measure_time());
  EXPECT_EQ(FromProtoTime(out.end_time()), kStart + absl::Hours(2));
  ASSERT_EQ(out.outcomes_size(), 2);
  EXPECT_DOUBLE_EQ(out.outcomes(0).uplift(), 3);
  EXPECT_EQ(out.outcomes(1).uplift(), 0);
}

}  // namespace
}  // namespace shadowplane::api
