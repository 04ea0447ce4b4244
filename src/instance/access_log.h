// Every client request this instance answered, for its agent to ship to the control plane's
// telemetry (TelemetryService.RecordAccess): who (the client's address, and its
// `X-Shadowplane-Client` id when it sends one), when, what (the method), how many bytes each way
// as counted on the connection, how long until the answer left, and its status.
//
// Records are numbered from 1 in the order noted; the agent reads them after the last number it
// shipped (`GET /_shadowplane/accesses?after=N&max=M`). The log keeps the newest `capacity`; a
// page says how many records after N were overwritten before they were read (lost). `epoch`
// names this process's log: after an instance restart numbering starts again under a new epoch.
//
// Served as tab-separated text, bounded and trivially parsed:
//   epoch <TAB> next <TAB> lost <TAB> bytes_in_total <TAB> bytes_out_total
//   seq <TAB> unix_us <TAB> client_ip <TAB> client_id <TAB> method <TAB> bytes_in <TAB> bytes_out
//       <TAB> latency_us <TAB> status                                  (one line per record)
// Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_ACCESS_LOG_H_
#define SHADOWPLANE_INSTANCE_ACCESS_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shadowplane::instance {

struct AccessRecord {
  int64_t seq = 0;
  absl::Time at;
  std::string client_ip;
  std::string client_id;  // empty: none (printable, no spaces, at most 128 bytes otherwise)
  std::string method;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  absl::Duration latency;
  int status = 0;
};

struct AccessPage {
  std::string epoch;
  int64_t next = 0;  // the number after the last record of this page (ask for after=next-1)
  int64_t lost = 0;  // records after `after` overwritten before this read
  int64_t bytes_in_total = 0, bytes_out_total = 0;  // the instance's counters, for utilization
  std::vector<AccessRecord> records;
};

inline constexpr int kMaxAccessPage = 10000;

class AccessLog {
 public:
  explicit AccessLog(size_t capacity = 65536);

  const std::string& epoch() const { return epoch_; }
  // Numbers `record` (its seq is set) and keeps it.
  void Note(AccessRecord record);
  // Records numbered after `after`, oldest first, at most `max`.
  AccessPage After(int64_t after, int max) const;

  static std::string ToText(const AccessPage& page);
  // INVALID_ARGUMENT naming the line for anything malformed (a page from a peer).
  static absl::StatusOr<AccessPage> FromText(const std::string& text);

 private:
  const size_t capacity_;
  const std::string epoch_;
  mutable absl::Mutex mu_;
  std::vector<AccessRecord> ring_ ABSL_GUARDED_BY(mu_);  // ring_[seq % capacity_] once full
  int64_t last_ ABSL_GUARDED_BY(mu_) = 0;                // the newest seq
};

// A client id as records keep it: the header's value when printable ASCII without spaces and at
// most 128 bytes, else "".
std::string UsableClientId(const std::string& header);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_ACCESS_LOG_H_
