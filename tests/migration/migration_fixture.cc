#include "migration/migration_fixture.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace shadowplane::testing {

namespace fs = std::filesystem;
namespace pb = shadowplane::v1;

int DataMiB() {
  const char* mb = std::getenv("SHADOWPLANE_MIGRATION_DATA_MB");
  int n = 0;
  return mb != nullptr && absl::SimpleAtoi(mb, &n) && n > 0 ? n : 16;
}

void WriteData(const std::string& dir, int mib) {
  fs::create_directories(dir + "/blobs");
  uint64_t x = 0x9e3779b97f4a7c15ull;
  std::string block(1 << 20, '\0');
  for (int f = 0; f < mib; ++f) {
    for (size_t i = 0; i + 8 <= block.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      memcpy(&block[i], &x, 8);
    }
    std::ofstream(absl::StrCat(dir, "/blobs/b-", f, ".bin"), std::ios::binary) << block;
  }
}

pb::Decision WaitForDecisionWithMigration(pb::PlannerService::Stub* planner,
                                          const std::string& resource_id,
                                          const std::string& outcome) {
  pb::Decision found;
  for (int i = 0; i < 120 && found.migration_id().empty(); ++i) {
    grpc::ClientContext context;
    pb::ListDecisionsRequest request;
    request.set_resource_id(resource_id);
    request.set_outcome(outcome);
    pb::ListDecisionsResponse response;
    if (planner->ListDecisions(&context, request, &response).ok() &&
        response.decisions_size() > 0) {
      found = response.decisions(0);
    }
    if (found.migration_id().empty()) absl::SleepFor(absl::Milliseconds(500));
  }
  return found;
}

void RunWriter(int port, const std::atomic<bool>& stop, WriterLog* log, bool keep_alive,
               absl::Duration timeout) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(keep_alive);
  client.set_read_timeout(absl::ToChronoMilliseconds(timeout));
  for (int i = 0; !stop.load(); ++i) {
    // One path per write: a failed write (possibly applied, possibly not) leaves no doubt about
    // what an acknowledged one must have left.
    const std::string path = absl::StrCat("/live/k-", i);
    const std::string body = absl::StrCat("write ", i, "\n");
    const absl::Time start = absl::Now();
    auto r = client.Put(path, body, "text/plain");
    log->latencies.push_back(absl::Now() - start);
    log->starts.push_back(start);
    ++log->requests;
    if (!r || r->status >= 300) {
      ++log->failures;
      log->failure_details.push_back(r ? absl::StrCat(i, ": ", r->status, " ", r->body)
                                       : absl::StrCat(i, ": no answer"));
      continue;
    }
    log->acknowledged[path] = body;
    const std::string by = r->has_header("X-Shadowplane-Forwarded-To")
                               ? "forwarded"
                               : r->get_header_value("X-Shadowplane-Instance");
    log->answered_by[by]++;
    log->acknowledged_by[path] = by;
    absl::SleepFor(absl::Milliseconds(4));
  }
}

absl::Duration WriterLog::Max() const {
  absl::Duration out;
  for (absl::Duration d : latencies) out = std::max(out, d);
  return out;
}

absl::Duration WriterLog::MaxAround(absl::Time from, absl::Time to, bool overlapping,
                                    int* count) const {
  absl::Duration out;
  *count = 0;
  for (size_t i = 0; i < latencies.size(); ++i) {
    const bool overlaps = starts[i] <= to && starts[i] + latencies[i] >= from;
    if (overlaps != overlapping) continue;
    ++*count;
    out = std::max(out, latencies[i]);
  }
  return out;
}

absl::Duration WriterLog::Quantile(double q) const {
  if (latencies.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

void MigrationTest::SetUp() {
  auto haproxy = HaproxyServer::Start({"web", "big"}, haproxy_backend_options_);
  ASSERT_TRUE(haproxy.ok()) << haproxy.status();
  haproxy_ = *std::move(haproxy);
  extra_flags_.insert(
      extra_flags_.begin(),
      {"--traffic_provider=haproxy", "--haproxy_socket=" + haproxy_->socket(),
       "--haproxy_state_file=" + haproxy_->state_file(), "--haproxy_drain=1s",
       "--observe_window=1s", "--migration_tick=100ms", "--shadow_sync_interval=2s"});
  ControlPlaneTest::SetUp();
}

grpc::Status MigrationTest::MigrateLostPrimary(const std::string& request_id,
                                               const std::string& reservation, pb::Migration* out,
                                               absl::Duration* waited, absl::Duration patience) {
  const absl::Time start = absl::Now();
  grpc::Status status;
  do {
    status = Migrate(request_id, reservation, "", out, "emergency");
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION ||
        !absl::StrContains(status.error_message(), "write lease")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(250));
  } while (absl::Now() - start < patience);
  if (waited != nullptr) *waited = absl::Now() - start;
  return status;
}

void MigrationTest::OnServerStarted() { migrations_ = pb::MigrationService::NewStub(channel_); }

grpc::Status MigrationTest::Migrate(const std::string& request_id, const std::string& reservation,
                                    const std::string& to, pb::Migration* out,
                                    const std::string& kind, const std::string& capacity_type) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  pb::MigrateRequest request;
  request.set_request_id(request_id);
  request.set_reservation_id(reservation);
  request.set_target_location(to);
  request.set_kind(kind);
  request.set_capacity_type(capacity_type);
  request.set_reason("test");
  return migrations_->Migrate(&context, request, out);
}

grpc::Status MigrationTest::GetMigration(const std::string& id, pb::Migration* out) {
  grpc::ClientContext context;
  pb::GetMigrationRequest request;
  request.set_id(id);
  return migrations_->GetMigration(&context, request, out);
}

grpc::Status MigrationTest::SetPlannerMode(const std::string& reservation_id,
                                           const std::string& mode) {
  grpc::ClientContext context;
  pb::UpdateReservationRequest update;
  update.set_id(reservation_id);
  update.mutable_planner()->set_mode(mode);
  pb::Reservation updated;
  return reservations_->UpdateReservation(&context, update, &updated);
}

std::vector<std::string> MigrationTest::Watch(const std::string& id, pb::Migration* last) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(240)));
  pb::WatchMigrationRequest request;
  request.set_id(id);
  auto stream = migrations_->WatchMigration(&context, request);
  std::vector<std::string> states;
  pb::Migration m;
  while (stream->Read(&m)) {
    if (states.empty() || states.back() != m.state()) states.push_back(m.state());
    *last = m;
  }
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return states;
}

std::string MigrationTest::StatesOf(const pb::Migration& m) {
  std::vector<std::string> states;
  for (const auto& e : m.events()) {
    if (states.empty() || states.back() != e.to_state()) states.push_back(e.to_state());
  }
  return absl::StrJoin(states, ",");
}

std::string MigrationTest::HaproxyTarget() { return haproxy_->Ask("show servers state web"); }

}  // namespace shadowplane::testing
