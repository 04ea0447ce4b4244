// Existing access logs as shadowplane imports them (`shadowctl accesses import FILE`): a CSV with
// a header line and one access per line,
//   time,client_ip,resource_id,request_type,bytes_in,bytes_out,latency_ms
//   2026-11-29T12:00:00Z,192.0.2.7,5d3c…,GET,120,4096,12.5
// time in RFC 3339, latency_ms may be empty. The rows go to TelemetryService.RecordAccessBatch
// with past timestamps, as any importer's would; the server resolves origins and rolls demand up.
#ifndef SHADOWPLANE_CLI_ACCESS_CSV_H_
#define SHADOWPLANE_CLI_ACCESS_CSV_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::cli {

struct ImportedAccess {
  absl::Time time;
  std::string client_ip;
  std::string resource_id;
  std::string request_type;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::optional<double> latency_ms;
};

inline constexpr int64_t kMaxImportBytes = int64_t{512} << 20;

// Every row, or INVALID_ARGUMENT naming the line and the column of the first bad one (nothing is
// imported from a file with a bad row).
absl::StatusOr<std::vector<ImportedAccess>> ParseAccessCsv(const std::string& text);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_ACCESS_CSV_H_
