#include "agent/telemetry_shipper.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/process_usage.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "instance/access_log.h"
#include "instance/forward_auth.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace shadowplane::agent {

namespace {

// Pages read from one instance per round: the rest waits for the next round (its log holds it).
constexpr int kMaxPagesPerRound = 20;

absl::StatusOr<instance::AccessPage> ReadPage(const ShippedInstance& instance, int64_t after,
                                              int max) {
  httplib::Client client(instance.address, instance.port);
  client.set_connection_timeout(0, 500000);
  client.set_read_timeout(2, 0);
  auto res = client.Get(absl::StrCat("/_shadowplane/accesses?after=", after, "&max=", max),
                        {{instance::kAgentKeyHeader, instance.agent_key}});
  if (!res) {
    return absl::UnavailableError(
        absl::StrCat("instance ", instance.instance_id, " does not answer"));
  }
  if (res->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("instance ", instance.instance_id, " answers ", res->status));
  }
  return instance::AccessLog::FromText(res->body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TelemetryShipper>> TelemetryShipper::Start(
    TelemetryShipperOptions options, std::function<std::vector<ShippedInstance>()> instances,
    TelemetrySink* sink, prometheus::Registry* registry) {
  if (sink == nullptr) return absl::InvalidArgumentError("telemetry needs --control_plane");
  if (options.max_batch_records < 1 || options.max_batch_records > instance::kMaxAccessPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_records must be 1 to ", instance::kMaxAccessPage));
  }
  if (options.spool_max_bytes < (int64_t{1} << 20)) {
    return absl::InvalidArgumentError("--spool_max_bytes must be at least 1 MiB");
  }
  if (options.poll_interval <= absl::ZeroDuration() ||
      options.utilization_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--access_poll_interval and --utilization_interval must be positive");
  }
  if (!std::isfinite(options.time_scale) || options.time_scale <= 0) {
    return absl::InvalidArgumentError("--time_scale must be a positive finite number");
  }
  absl::StatusOr<std::unique_ptr<TelemetrySpool>> spool =
      TelemetrySpool::Open(options.spool_dir, options.spool_max_bytes);
  if (!spool.ok()) return spool.status();
  std::unique_ptr<TelemetryShipper> shipper(new TelemetryShipper(
      std::move(options), std::move(instances), sink, *std::move(spool), registry));
  if (shipper->options_.run_threads) {
    shipper->threads_.emplace_back([s = shipper.get()] { s->Loop(true); });
    shipper->threads_.emplace_back([s = shipper.get()] { s->Loop(false); });
  }
  return shipper;
}

TelemetryShipper::TelemetryShipper(TelemetryShipperOptions options,
                                   std::function<std::vector<ShippedInstance>()> instances,
                                   TelemetrySink* sink, std::unique_ptr<TelemetrySpool> spool,
                                   prometheus::Registry* registry)
    : options_(std::move(options)),
      domain_(RealClock::Get(), options_.time_epoch, options_.time_scale),
      instances_(std::move(instances)),
      sink_(sink),
      spool_(std::move(spool)) {
  cursors_ = spool_->Cursors();
  if (registry != nullptr) {
    records_ = &prometheus::BuildCounter()
                    .Name("shadowplane_agent_telemetry_records_total")
                    .Help(
                        "Instance access records and utilization samples, by what became of "
                        "them (spooled, shipped, rejected by the control plane, dropped from a "
                        "full spool, lost: overwritten in an instance's log before read)")
                    .Register(*registry);
    // Every outcome from the start, at 0, so that an alert on drops has a series to read.
    for (const char* result : {"spooled", "shipped", "rejected", "dropped", "lost"}) {
      records_->Add({{"result", result}});
    }
    batches_ = &prometheus::BuildCounter()
                    .Name("shadowplane_agent_telemetry_batches_total")
                    .Help("Telemetry batches sent or spooled, by result")
                    .Register(*registry);
    spool_bytes_ = &prometheus::BuildGauge()
                        .Name("shadowplane_agent_telemetry_spool_bytes")
                        .Help("Telemetry waiting in the spool for the control plane")
                        .Register(*registry)
                        .Add({});
  }
}

TelemetryShipper::~TelemetryShipper() {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void TelemetryShipper::Count(const std::string& family, const std::string& result, double n) {
  prometheus::Family<prometheus::Counter>* f = family == "records" ? records_ : batches_;
  if (f != nullptr && n > 0) f->Add({{"result", result}}).Increment(n);
}

void TelemetryShipper::Loop(bool collecting) {
  absl::Duration wait = options_.poll_interval;
  absl::MutexLock lock(&stop_mu_);
  while (!stopping_) {
    stop_mu_.Unlock();
    const absl::Status s = collecting ? CollectOnce() : ShipOnce();
    stop_mu_.Lock();
    if (collecting) {
      if (!s.ok()) LOG_EVENT(kWarning, "instance telemetry not collected").Field("error", s);
    } else {
      // Shipping backs off while no replica takes batches, up to ten polls.
      wait = s.ok() ? options_.poll_interval : std::min(wait * 2, options_.poll_interval * 10);
    }
    auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(stop_mu_) { return stopping_; };
    stop_mu_.AwaitWithTimeout(absl::Condition(&stopping), wait);
  }
}

absl::Status TelemetryShipper::CollectOnce() {
  absl::Status first_error;
  for (const ShippedInstance& instance : instances_()) {
    absl::Status s = Collect(instance);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (spool_bytes_ != nullptr) spool_bytes_->Set(static_cast<double>(spool_->bytes()));
  return first_error;
}

absl::Status TelemetryShipper::Collect(const ShippedInstance& instance) {
  absl::MutexLock lock(&collect_mu_);
  LogCursor& cursor = cursors_[instance.instance_id];
  std::optional<instance::AccessPage> last_page;
  for (int round = 0; round < kMaxPagesPerRound; ++round) {
    absl::StatusOr<instance::AccessPage> page =
        ReadPage(instance, cursor.last, options_.max_batch_records);
    if (!page.ok()) return page.status();
    if (page->epoch != cursor.epoch) {
      // A new log (the instance restarted, or the first read): from its start.
      cursor = {page->epoch, 0};
      page = ReadPage(instance, 0, options_.max_batch_records);
      if (!page.ok()) return page.status();
      if (page->epoch != cursor.epoch) return absl::UnavailableError("the instance restarted");
    }
    if (page->lost > 0) {
      LOG_EVENT(kWarning, "instance access records overwritten before read")
          .Field("instance_id", instance.instance_id)
          .Field("lost", page->lost);
      Count("records", "lost", static_cast<double>(page->lost));
    }
    const bool empty = page->records.empty();
    if (!empty) {
      TelemetryBatch batch;
      batch.batch_id = AccessBatchId(instance.instance_id, page->epoch, page->records.front().seq,
                                     page->records.back().seq);
      for (const instance::AccessRecord& r : page->records) {
        ShippedAccess e;
        e.at = domain_.FromBase(r.at);
        e.client_ip = r.client_ip;
        e.client_id = r.client_id;
        e.resource_id = instance.resource_id;
        e.instance_id = instance.instance_id;
        e.request_type = r.method;
        e.bytes_in = r.bytes_in;
        e.bytes_out = r.bytes_out;
        e.latency_ms = absl::ToDoubleMilliseconds(r.latency);
        batch.events.push_back(std::move(e));
      }
      if (absl::Status s = spool_->Append(batch); !s.ok()) {
        // Not advanced: the records stay in the instance's log for the next round.
        Count("batches", "spool_error", 1);
        return s;
      }
      Count("records", "spooled", static_cast<double>(batch.records()));
      cursor.last = page->records.back().seq;
    }
    last_page = *std::move(page);
    if (empty || static_cast<int>(last_page->records.size()) < options_.max_batch_records) break;
  }
  // Utilization, when due: the CPU and memory of the process, the bytes of its connections.
  const absl::Time now = absl::Now();
  Previous& previous = previous_[instance.instance_id];
  if (!last_page.has_value() || now - previous.at < options_.utilization_interval) {
    return absl::OkStatus();
  }
  absl::StatusOr<ProcessUsage> usage = ReadProcessUsage(instance.pid);
  if (!usage.ok()) return usage.status();
  const Previous current{now, last_page->epoch, usage->cpu_seconds, last_page->bytes_in_total,
                         last_page->bytes_out_total};
  // A first reading, or one across an instance restart, only starts the next interval.
  if (previous.at != absl::Time() && previous.epoch == current.epoch) {
    TelemetryBatch batch;
    batch.batch_id = absl::StrCat("u-", instance.instance_id, "-", absl::ToUnixMicros(now));
    ShippedSample sample;
    sample.at = domain_.FromBase(now);
    sample.instance_id = instance.instance_id;
    sample.interval = sample.at - domain_.FromBase(previous.at);
    sample.cpu_seconds = std::max(0.0, current.cpu_seconds - previous.cpu_seconds);
    sample.memory_bytes = usage->resident_bytes;  // at the end of the interval
    sample.net_bytes_in = std::max<int64_t>(0, current.bytes_in - previous.bytes_in);
    sample.net_bytes_out = std::max<int64_t>(0, current.bytes_out - previous.bytes_out);
    batch.samples.push_back(std::move(sample));
    if (absl::Status s = spool_->Append(batch); !s.ok()) {
      Count("batches", "spool_error", 1);
      return s;
    }
    Count("records", "spooled", 1);
  }
  previous = current;
  return absl::OkStatus();
}

absl::Status TelemetryShipper::ShipOnce() {
  absl::MutexLock lock(&ship_mu_);
  while (true) {
    std::optional<std::pair<int64_t, TelemetryBatch>> next = spool_->Oldest();
    if (!next.has_value()) break;
    const TelemetryBatch& batch = next->second;
    const double records = static_cast<double>(batch.records());
    absl::StatusOr<BatchVerdict> verdict = sink_->Send(batch);
    if (!verdict.ok()) {
      Count("batches", "unreachable", 1);
      return verdict.status();
    }
    switch (verdict->kind) {
      case BatchVerdict::Kind::kCommitted:
        Count("batches", verdict->duplicate ? "duplicate" : "acknowledged", 1);
        Count("records", "shipped", records - static_cast<double>(verdict->rejected));
        Count("records", "rejected", static_cast<double>(verdict->rejected));
        break;
      case BatchVerdict::Kind::kRefused:
        LOG_EVENT(kError, "telemetry batch refused")
            .Field("batch_id", batch.batch_id)
            .Field("message", verdict->message);
        Count("batches", "refused", 1);
        Count("records", "dropped", records);
        break;
      case BatchVerdict::Kind::kRetryLater:
        Count("batches", "unreachable", 1);
        return absl::ResourceExhaustedError(
            absl::StrCat("the control plane did not commit a batch: ", verdict->message));
    }
    RETURN_IF_ERROR(spool_->Acknowledge(next->first, batch));
  }
  if (spool_bytes_ != nullptr) spool_bytes_->Set(static_cast<double>(spool_->bytes()));
  return absl::OkStatus();
}

}  // namespace shadowplane::agent
