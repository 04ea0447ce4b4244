#include "cli/access_csv.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shadowplane::cli {

absl::StatusOr<std::vector<ImportedAccess>> ParseAccessCsv(const std::string& text) {
  constexpr char kHeader[] =
      "time,client_ip,resource_id,request_type,bytes_in,bytes_out,latency_ms";
  std::vector<ImportedAccess> out;
  int line = 0;
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    ++line;
    row = absl::StripTrailingAsciiWhitespace(row);
    if (row.empty()) continue;
    auto bad = [line](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", why));
    };
    if (line == 1) {
      if (row != kHeader) return bad(absl::StrCat("want the header ", kHeader));
      continue;
    }
    const std::vector<std::string> f = absl::StrSplit(row, ',');
    if (f.size() != 7) return bad(absl::StrCat("want 7 columns, got ", f.size()));
    ImportedAccess a;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, f[0], &a.time, &error)) {
      return bad(absl::StrCat("time: ", error));
    }
    a.client_ip = f[1];
    a.resource_id = f[2];
    a.request_type = f[3];
    if (a.client_ip.empty() || a.client_ip.size() > 64)
      return bad("client_ip: missing or too long");
    if (a.resource_id.empty() || a.resource_id.size() > 64) {
      return bad("resource_id: missing or too long");
    }
    if (a.request_type.empty() || a.request_type.size() > 64) {
      return bad("request_type: missing or too long");
    }
    if (!absl::SimpleAtoi(f[4], &a.bytes_in) || a.bytes_in < 0) return bad("bytes_in: not >= 0");
    if (!absl::SimpleAtoi(f[5], &a.bytes_out) || a.bytes_out < 0) {
      return bad("bytes_out: not >= 0");
    }
    if (!f[6].empty()) {
      double latency = 0;
      if (!absl::SimpleAtod(f[6], &latency) || !std::isfinite(latency) || latency < 0) {
        return bad("latency_ms: not a finite number >= 0");
      }
      a.latency_ms = latency;
    }
    out.push_back(std::move(a));
  }
  if (line == 0 || (line == 1 && text.empty())) {
    return absl::InvalidArgumentError("line 1: empty file");
  }
  return out;
}

}  // namespace shadowplane::cli
