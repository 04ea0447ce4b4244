// Three weeks of demand for the planner's end-to-end tests, sent as an edge proxy would.
#ifndef SHADOWPLANE_TESTS_PLANNER_PLANNER_HISTORY_H_
#define SHADOWPLANE_TESTS_PLANNER_PLANNER_HISTORY_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane::testing {

// Three weeks of hourly demand up to the current hour: the 12 hours starting at this hour of
// each day come mostly from Europe, the other 12 mostly from the US (the resource's region).
inline void SendDailyHistory(shadowplane::v1::TelemetryService::Stub* telemetry,
                             const std::string& resource_id) {
  const absl::Time now = absl::Now();
  const int64_t this_hour = absl::ToUnixSeconds(now) / 3600;
  shadowplane::v1::AccessBatch batch;
  int batches = 0;
  auto flush = [&] {
    if (batch.events_size() == 0) return;
    batch.set_batch_id(absl::StrCat("history-", batches++));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    shadowplane::v1::BatchAck ack;
    grpc::Status status = telemetry->RecordAccessBatch(&context, batch, &ack);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(ack.code(), 0) << ack.message();
    ASSERT_EQ(ack.events_accepted() + ack.events_demand_only(), batch.events_size());
    batch.clear_events();
  };
  for (int64_t hour = this_hour - 21 * 24; hour < this_hour; ++hour) {
    const bool europe = ((hour - this_hour) % 24 + 24) % 24 < 12;
    for (const char* region : {"eu-central", "us-east"}) {
      const bool heavy = europe == (std::string(region) == "eu-central");
      for (int i = 0, n = heavy ? 40 : 4; i < n; ++i) {
        shadowplane::v1::AccessEvent* e = batch.add_events();
        e->mutable_time()->set_seconds(hour * 3600 + 60 * i + 30);
        e->set_client_ip(heavy && europe ? "192.0.2.10" : "198.51.100.20");
        e->set_resource_id(resource_id);
        e->set_request_type("GET");
        e->set_bytes_out(2000);
        e->set_origin_region(region);
      }
    }
  }
  flush();
}

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_PLANNER_PLANNER_HISTORY_H_
