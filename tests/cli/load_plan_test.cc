// The load generator's plan: requests per region and hour from the trace, spread over the hour at
// the time scale, from each region's own addresses, the same for the same seed; traces, networks
// and targets that cannot serve are refused with the reason.
#include "cli/load_plan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "cli/load_runner.h"
#include "support/child_process.h"

namespace shadowplane::cli {
namespace {

namespace fs = std::filesystem;

LoadTrace TwoRegions() {
  LoadTrace t;
  t.start = absl::FromUnixSeconds(1736121600);
  t.regions = {"us-east", "eu-central"};
  t.demand = {{100, 200, 300, 400}, {40, 0, 60, 80}};
  return t;
}

const std::map<std::string, std::string> kNetworks = {{"us-east", "127.100.0.0/16"},
                                                      {"eu-central", "127.102.0.0/16"}};

TEST(LoadPlanTest, RequestsPerRegionAndHourFromTheTraceFromTheRegionsAddresses) {
  LoadPlanOptions o;
  o.from_hour = 1;
  o.hours = 2;
  o.requests_per_unit = 0.1;
  o.time_scale = 3600;
  o.write_share = 0.25;
  absl::StatusOr<LoadPlan> plan = PlanLoad(TwoRegions(), kNetworks, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->per_hour[0], (std::vector<int64_t>{20, 30}));
  EXPECT_EQ(plan->per_hour[1], (std::vector<int64_t>{0, 6}));
  ASSERT_EQ(plan->requests.size(), 56u);
  EXPECT_EQ(plan->duration, absl::Seconds(2));
  int writes = 0;
  absl::Duration last = absl::ZeroDuration();
  for (const PlannedRequest& q : plan->requests) {
    EXPECT_GE(q.at, last) << "in time order";
    last = q.at;
    // Hour h of the replay lies in [h - from_hour, h - from_hour + 1) seconds at this scale.
    EXPECT_GE(q.at, absl::Seconds(q.hour - 1));
    EXPECT_LT(q.at, absl::Seconds(q.hour));
    EXPECT_TRUE(absl::StartsWith(q.source_address, q.region == 0 ? "127.100.0." : "127.102.0."))
        << q.source_address;
    writes += q.write;
  }
  EXPECT_GT(writes, 5);
  EXPECT_LT(writes, 25);
  absl::StatusOr<LoadPlan> again = PlanLoad(TwoRegions(), kNetworks, o);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < plan->requests.size(); ++i) {
    EXPECT_EQ(plan->requests[i].at, again->requests[i].at);
    EXPECT_EQ(plan->requests[i].source_address, again->requests[i].source_address);
  }
}

TEST(LoadPlanTest, WhatCannotBeServedIsRefusedWithTheReason) {
  LoadPlanOptions o;
  o.hours = 2;
  auto refused = [&](const std::map<std::string, std::string>& networks, const LoadPlanOptions& p,
                     const std::string& says) {
    absl::StatusOr<LoadPlan> plan = PlanLoad(TwoRegions(), networks, p);
    ASSERT_FALSE(plan.ok()) << says;
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(plan.status().message(), says)) << plan.status();
  };
  refused({{"us-east", "127.100.0.0/16"}}, o, "eu-central");
  refused({{"us-east", "127.100.0.0/16"}, {"eu-central", "127.102.0.0/30"}}, o, "room");
  LoadPlanOptions past = o;
  past.hours = 9;
  refused(kNetworks, past, "--hours");
  LoadPlanOptions many = o;
  many.requests_per_unit = 1000;
  many.max_requests = 1000;
  refused(kNetworks, many, "--max_requests");
  LoadPlanOptions share = o;
  share.write_share = 2;
  refused(kNetworks, share, "--write_share");
}

TEST(LoadPlanTest, TraceFoldersWithGapsOrNegativeValuesAreNamedByFileAndLine) {
  const std::string dir = testing::MakeTempDir("sp-loadtrace");
  auto write = [&](const std::string& name, const std::string& rows) {
    std::ofstream(dir + "/" + name) << "date_time,raw demand (MW),cleaned demand (MW)\n" << rows;
  };
  write("EAST.csv", "2015-07-02 00:00:00,10,10\n2015-07-02 01:00:00,11,11\n");
  write("WEST.csv", "2015-07-02 00:00:00,5,5\n2015-07-02 01:00:00,6,6\n");
  absl::StatusOr<LoadTrace> trace = ReadLoadTrace(dir);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->regions, (std::vector<std::string>{"EAST", "WEST"}));
  EXPECT_EQ(trace->hours(), 2);
  // A region the locations file gives no client network: refused, naming its file.
  LoadPlanOptions two_hours;
  two_hours.hours = 2;
  absl::Status unknown = PlanLoad(*trace, {{"EAST", "127.100.0.0/16"}}, two_hours).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(unknown.message(), "region WEST (" + dir + "/WEST.csv)"))
      << unknown;
  write("WEST.csv", "2015-07-02 00:00:00,5,5\n2015-07-02 01:00:00,-6,-6\n");
  absl::Status negative = ReadLoadTrace(dir).status();
  EXPECT_EQ(negative.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(negative.message(), "WEST.csv, line 3")) << negative;
  write("WEST.csv", "2015-07-02 00:00:00,5,5\n2015-07-02 01:00:00,,\n");
  absl::Status empty = ReadLoadTrace(dir).status();
  EXPECT_TRUE(absl::StrContains(empty.message(), "WEST.csv line 3")) << empty;
  // An hour absent from the file.
  write("WEST.csv", "2015-07-02 00:00:00,5,5\n2015-07-02 02:00:00,6,6\n");
  absl::Status missing = ReadLoadTrace(dir).status();
  EXPECT_TRUE(absl::StrContains(missing.message(), "WEST.csv, line 3 (hour 2015-07-02T01:00Z)"))
      << missing;
  EXPECT_EQ(ReadLoadTrace(dir + "/nowhere").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<LoadTrace> synthetic = ReadLoadTrace("synthetic");
  ASSERT_TRUE(synthetic.ok());
  EXPECT_EQ(synthetic->regions.size(), 5u);
  fs::remove_all(dir);
}

// A write freeze as the clients saw it: the writes in progress at some moment of the window, by
// hand.
TEST(WritesDuringTest, CountsTheWritesInProgressInTheWindowAndTheirSlowest) {
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  const std::vector<WriteTiming> writes = {
      {t0, absl::Milliseconds(2), true},                              // ends before
      {t0 + absl::Milliseconds(95), absl::Milliseconds(30), true},    // runs into it
      {t0 + absl::Milliseconds(105), absl::Milliseconds(40), false},  // starts in it
      {t0 + absl::Milliseconds(200), absl::Milliseconds(3), true},    // after
      {t0 + absl::Milliseconds(300), absl::Milliseconds(4), true}};
  const FreezeAsSeen seen =
      WritesDuring(writes, t0 + absl::Milliseconds(100), t0 + absl::Milliseconds(120));
  EXPECT_EQ(seen.writes, 2);
  EXPECT_EQ(seen.failed, 1);
  EXPECT_EQ(seen.slowest, absl::Milliseconds(40));
  EXPECT_EQ(seen.typical_write, absl::Milliseconds(4));  // the median of 2, 3, 4, 30, 40
  const FreezeAsSeen none = WritesDuring(writes, t0 + absl::Seconds(5), t0 + absl::Seconds(6));
  EXPECT_EQ(none.writes, 0);
  EXPECT_EQ(none.slowest, absl::ZeroDuration());
  EXPECT_EQ(WritesDuring({}, t0, t0).typical_write, absl::ZeroDuration());
}

}  // namespace
}  // namespace shadowplane::cli
