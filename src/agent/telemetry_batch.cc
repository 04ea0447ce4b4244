#include "agent/telemetry_batch.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace shadowplane::agent {

namespace {

// A field as the encoding carries it: printable ASCII without spaces, or "-" for empty.
std::string Field(const std::string& s) { return s.empty() ? "-" : s; }

bool Printable(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string Unfield(const std::string& s) { return s == "-" ? "" : s; }

}  // namespace

std::string EncodeBatch(const TelemetryBatch& b) {
  std::string out = absl::StrCat("B\t", Field(b.batch_id), "\n");
  for (const ShippedAccess& e : b.events) {
    absl::StrAppend(&out, "E\t", absl::ToUnixMicros(e.at), "\t", Field(e.client_ip), "\t",
                    Field(e.client_id), "\t", Field(e.resource_id), "\t", Field(e.instance_id),
                    "\t", Field(e.request_type), "\t", e.bytes_in, "\t", e.bytes_out, "\t",
                    absl::StrFormat("%.17g", e.latency_ms), "\n");
  }
  for (const ShippedSample& s : b.samples) {
    absl::StrAppend(&out, "S\t", absl::ToUnixMicros(s.at), "\t", Field(s.instance_id), "\t",
                    absl::ToInt64Microseconds(s.interval), "\t",
                    absl::StrFormat("%.17g", s.cpu_seconds), "\t", s.memory_bytes, "\t",
                    s.net_bytes_in, "\t", s.net_bytes_out, "\n");
  }
  return out;
}

absl::StatusOr<TelemetryBatch> DecodeBatch(const std::string& text) {
  TelemetryBatch b;
  int line_number = 0;
  auto bad = [&line_number](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("telemetry batch line ", line_number, ": ", why));
  };
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++line_number;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    for (size_t i = 1; i < f.size(); ++i) {
      if (!Printable(f[i])) return bad("a field is not printable text");
    }
    if (line_number == 1) {
      if (f.size() != 2 || f[0] != "B") return bad("not a batch header");
      b.batch_id = f[1];
      continue;
    }
    int64_t at_us = 0;
    if (f.empty() || f.size() < 2 || !absl::SimpleAtoi(f[1], &at_us)) return bad("no time");
    if (f[0] == "E" && f.size() == 10) {
      ShippedAccess e;
      e.at = absl::FromUnixMicros(at_us);
      e.client_ip = Unfield(f[2]);
      e.client_id = Unfield(f[3]);
      e.resource_id = Unfield(f[4]);
      e.instance_id = Unfield(f[5]);
      e.request_type = Unfield(f[6]);
      if (!absl::SimpleAtoi(f[7], &e.bytes_in) || !absl::SimpleAtoi(f[8], &e.bytes_out) ||
          !absl::SimpleAtod(f[9], &e.latency_ms) || !std::isfinite(e.latency_ms)) {
        return bad("not an access record");
      }
      b.events.push_back(std::move(e));
    } else if (f[0] == "S" && f.size() == 8) {
      ShippedSample s;
      s.at = absl::FromUnixMicros(at_us);
      s.instance_id = Unfield(f[2]);
      int64_t interval_us = 0;
      if (!absl::SimpleAtoi(f[3], &interval_us) || !absl::SimpleAtod(f[4], &s.cpu_seconds) ||
          !std::isfinite(s.cpu_seconds) || !absl::SimpleAtoi(f[5], &s.memory_bytes) ||
          !absl::SimpleAtoi(f[6], &s.net_bytes_in) || !absl::SimpleAtoi(f[7], &s.net_bytes_out)) {
        return bad("not a utilization sample");
      }
      s.interval = absl::Microseconds(interval_us);
      b.samples.push_back(std::move(s));
    } else {
      return bad("neither an access record nor a utilization sample");
    }
  }
  if (line_number == 0) return bad("empty");
  return b;
}

}  // namespace shadowplane::agent
