// Ships the agent's instances' own telemetry to the control plane: every request each instance
// answered (its access log, instance/access_log.h) and, every `utilization_interval`, each
// instance's CPU time and resident memory (from /proc, agent/process_usage.h) and the bytes its
// connections moved, in batches to a TelemetrySink (the control plane's
// TelemetryService.RecordAccessBatch, api/telemetry_sink.h).
//
// Nothing acknowledged is lost and nothing is counted twice, across restarts of the agent, the
// instances and the control plane: every batch goes to the spool first (agent/telemetry_spool.h)
// and leaves it only once the control plane acknowledged it, and batch ids name their
// records, so a resent batch is one the control plane recognises. While no replica answers, the
// spool grows up to `spool_max_bytes` (then the oldest batches are dropped and counted); an
// instance's log keeps its newest 65,536 records, so records the agent could not read in time are
// lost, and counted too.
//
// Metrics: shadowplane_agent_telemetry_records_total{result} (spooled, shipped, rejected,
// dropped, lost), shadowplane_agent_telemetry_batches_total{result} (acknowledged, duplicate,
// refused, unreachable, spool_error), shadowplane_agent_telemetry_spool_bytes. Thread-safe.
#ifndef SHADOWPLANE_AGENT_TELEMETRY_SHIPPER_H_
#define SHADOWPLANE_AGENT_TELEMETRY_SHIPPER_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/telemetry_spool.h"
#include "common/clock.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::agent {

// A running instance as the shipper reads it.
struct ShippedInstance {
  std::string instance_id;
  std::string resource_id;
  std::string address;
  int port = 0;
  pid_t pid = 0;
  std::string agent_key;  // opens its access log (instance/forward_auth.h)
};

struct TelemetryShipperOptions {
  std::string spool_dir;
  int64_t spool_max_bytes = int64_t{256} << 20;
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration utilization_interval = absl::Seconds(10);
  // Records per batch (at most the server's --max_batch_events).
  int max_batch_records = 1000;
  // Run the collecting and shipping threads (tests drive CollectOnce/ShipOnce instead).
  bool run_threads = true;
  // The deployment's domain time (--time_scale, --time_epoch, as the server's): records are
  // stamped and utilization intervals measured in it, so that a demo running faster than real
  // time sees its demand in the hours its clock shows.
  double time_scale = 1;
  absl::Time time_epoch = absl::UnixEpoch();
};

class TelemetryShipper {
 public:
  // FAILED_PRECONDITION when the spool cannot be opened; INVALID_ARGUMENT for bad options.
  // `instances` lists the running instances (called from the collecting thread); `sink` must
  // outlive the shipper; `registry` may be null.
  static absl::StatusOr<std::unique_ptr<TelemetryShipper>> Start(
      TelemetryShipperOptions options, std::function<std::vector<ShippedInstance>()> instances,
      TelemetrySink* sink, prometheus::Registry* registry);
  ~TelemetryShipper();

  // Reads every instance's new records, and its utilization when due, into the spool. An instance
  // that does not answer is skipped this round (its records wait in its log).
  absl::Status CollectOnce();
  // Sends the spooled batches, oldest first, until the spool is empty (OK) or no replica takes
  // them (UNAVAILABLE, or RESOURCE_EXHAUSTED when the control plane asked to wait).
  absl::Status ShipOnce();

  int64_t spooled_batches() const { return spool_->batches(); }

 private:
  struct Previous {  // the last utilization reading of an instance
    absl::Time at;
    std::string epoch;
    double cpu_seconds = 0;
    int64_t bytes_in = 0, bytes_out = 0;
  };
  TelemetryShipper(TelemetryShipperOptions options,
                   std::function<std::vector<ShippedInstance>()> instances, TelemetrySink* sink,
                   std::unique_ptr<TelemetrySpool> spool, prometheus::Registry* registry);
  absl::Status Collect(const ShippedInstance& instance);
  void Count(const std::string& family, const std::string& result, double n);
  void Loop(bool collecting);

  const TelemetryShipperOptions options_;
  const ScaledClock domain_;  // real -> domain time (the identity at scale 1)
  const std::function<std::vector<ShippedInstance>()> instances_;
  TelemetrySink* const sink_;
  const std::unique_ptr<TelemetrySpool> spool_;
  absl::Mutex collect_mu_;  // one collection at a time
  std::map<std::string, LogCursor> cursors_ ABSL_GUARDED_BY(collect_mu_);
  std::map<std::string, Previous> previous_ ABSL_GUARDED_BY(collect_mu_);
  absl::Mutex ship_mu_;  // one shipping at a time
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  prometheus::Family<prometheus::Counter>* records_ = nullptr;
  prometheus::Family<prometheus::Counter>* batches_ = nullptr;
  prometheus::Gauge* spool_bytes_ = nullptr;
  std::vector<std::thread> threads_;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_TELEMETRY_SHIPPER_H_
