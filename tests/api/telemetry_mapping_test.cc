// TelemetryService messages <-> ingest's structs: every field carried, an unreadable timestamp
// passed on as malformed (the validator refuses that record alone), the acknowledgement's retry
// hint only when there is one, and demand queries that name their bad field.
#include "api/telemetry_mapping.h"

#include "absl/strings/match.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace shadowplane::api {
namespace {

namespace pb = shadowplane::v1;

const absl::Time kNow = absl::FromUnixSeconds(1796558400);

pb::AccessBatch Batch() {
  pb::AccessBatch batch;
  batch.set_batch_id("b-1");
  pb::AccessEvent* e = batch.add_events();
  *e->mutable_time() = ToProtoTime(kNow);
  e->set_client_ip("192.0.2.1");
  e->set_resource_id("r");
  e->set_instance_id("i");
  e->set_request_type("GET");
  e->set_bytes_in(1);
  e->set_bytes_out(2);
  e->set_latency_ms(3.5);
  e->set_cpu_millis(4.5);
  e->set_memory_bytes(5);
  e->set_client_id("c");
  e->set_origin_region("eu");
  pb::UtilizationSample* s = batch.add_samples();
  *s->mutable_time() = ToProtoTime(kNow);
  s->set_instance_id("i");
  *s->mutable_interval() = ToProtoDuration(absl::Seconds(10));
  s->set_cpu_seconds(1.5);
  s->set_memory_bytes(6);
  s->set_net_bytes_in(7);
  s->set_net_bytes_out(8);
  return batch;
}

TEST(TelemetryMappingTest, ABatchCarriesEveryField) {
  const ingest::AccessBatch batch = FromProto(Batch());
  EXPECT_EQ(batch.batch_id, "b-1");
  ASSERT_EQ(batch.events.size(), 1u);
  const ingest::AccessEvent& e = batch.events[0];
  EXPECT_EQ(e.time, kNow);
  EXPECT_FALSE(e.time_malformed);
  EXPECT_EQ(e.client_ip, "192.0.2.1");
  EXPECT_EQ(e.resource_id, "r");
  EXPECT_EQ(e.instance_id, "i");
  EXPECT_EQ(e.request_type, "GET");
  EXPECT_EQ(e.bytes_in, 1);
  EXPECT_EQ(e.bytes_out, 2);
  EXPECT_EQ(e.latency_ms, 3.5);
  EXPECT_EQ(e.cpu_millis, 4.5);
  EXPECT_EQ(e.memory_bytes, 5);
  EXPECT_EQ(e.client_id, "c");
  EXPECT_EQ(e.origin_region, "eu");
  ASSERT_EQ(batch.samples.size(), 1u);
  const ingest::UtilizationSample& s = batch.samples[0];
  EXPECT_EQ(s.time, kNow);
  EXPECT_EQ(s.interval, absl::Seconds(10));
  EXPECT_EQ(s.cpu_seconds, 1.5);
  EXPECT_EQ(s.memory_bytes, 6);
  EXPECT_EQ(s.net_bytes_in, 7);
  EXPECT_EQ(s.net_bytes_out, 8);
}

TEST(TelemetryMappingTest, UnsetStaysUnsetAndAnUnreadableTimeIsMarkedNotGuessed) {
  pb::AccessBatch wire = Batch();
  wire.mutable_events(0)->clear_time();
  wire.mutable_events(0)->clear_latency_ms();
  wire.mutable_samples(0)->clear_interval();
  pb::AccessEvent* late = wire.add_events();
  late->mutable_time()->set_nanos(-1);
  pb::AccessEvent* far = wire.add_events();
  far->mutable_time()->set_seconds(int64_t{1} << 62);
  wire.mutable_samples(0)->mutable_time()->set_nanos(1'000'000'000);
  const ingest::AccessBatch batch = FromProto(std::move(wire));
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_FALSE(batch.events[0].time.has_value());
  EXPECT_FALSE(batch.events[0].time_malformed) << "missing, not malformed";
  EXPECT_FALSE(batch.events[0].latency_ms.has_value());
  for (int i : {1, 2}) {
    EXPECT_TRUE(batch.events[i].time_malformed) << i;
    EXPECT_FALSE(batch.events[i].time.has_value()) << i;
  }
  EXPECT_TRUE(batch.samples[0].time_malformed);
  EXPECT_FALSE(batch.samples[0].interval.has_value());
}

TEST(TelemetryMappingTest, AnAcknowledgementCarriesCountsAndARetryHintOnlyWhenGiven) {
  ingest::BatchAck ack;
  ack.batch_id = "b-1";
  ack.counts.events_accepted = 3;
  ack.counts.events_demand_only = 1;
  ack.counts.samples_accepted = 2;
  ack.counts.rejections.push_back({"malformed_ip", 2, {4, 7}, {}});
  ack.duplicate = true;
  pb::BatchAck out;
  ToProto(ack, &out);
  EXPECT_EQ(out.code(), 0);
  EXPECT_FALSE(out.has_retry_after());
  EXPECT_TRUE(out.duplicate());
  EXPECT_EQ(out.events_accepted(), 3);
  EXPECT_EQ(out.events_demand_only(), 1);
  EXPECT_EQ(out.samples_accepted(), 2);
  ASSERT_EQ(out.rejections_size(), 1);
  EXPECT_EQ(out.rejections(0).count(), 2);
  EXPECT_EQ(out.rejections(0).first_event_indexes(1), 7);

  ingest::BatchAck busy;
  busy.batch_id = "b-2";
  busy.code = absl::StatusCode::kResourceExhausted;
  busy.message = "queue full";
  busy.retry_after = absl::Milliseconds(250);
  pb::BatchAck refused;
  ToProto(busy, &refused);
  EXPECT_EQ(refused.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(refused.message(), "queue full");
  EXPECT_EQ(FromProtoDuration(refused.retry_after()), absl::Milliseconds(250));
}

TEST(TelemetryMappingTest, ADemandQueryNamesItsBadField) {
  pb::GetDemandRequest request;
  request.set_resource_id("r");
  absl::StatusOr<ingest::DemandQuery> query = FromProto(request);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->step, absl::Hours(1));
  EXPECT_FALSE(query->from.has_value());
  request.set_granularity(pb::GRANULARITY_DAY);
  *request.mutable_from() = ToProtoTime(kNow);
  query = FromProto(request);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->step, absl::Hours(24));
  EXPECT_EQ(query->from, kNow);
  request.mutable_to()->set_nanos(-5);
  query = FromProto(request);
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(query.status().message(), "to ")) << query.status();
  request.clear_to();
  request.set_granularity(static_cast<pb::Granularity>(42));
  query = FromProto(request);
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(query.status().message(), "granularity")) << query.status();
}

}  // namespace
}  // namespace shadowplane::api
