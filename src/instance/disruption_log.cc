#include "instance/disruption_log.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace shadowplane::instance {

const char* DisruptionKindName(DisruptionKind kind) {
  switch (kind) {
    case DisruptionKind::kHeld:
      return "held";
    case DisruptionKind::kFailed:
      return "failed";
    case DisruptionKind::kForwarded:
      return "forwarded";
    case DisruptionKind::kClosed:
      return "closed";
    case DisruptionKind::kStaleRead:
      return "stale_read";
  }
  return "unknown";
}

DisruptionLog::DisruptionLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

void DisruptionLog::Note(const std::string& client, DisruptionKind kind, absl::Time at) {
  absl::MutexLock lock(&mu_);
  if (ring_.size() < capacity_) {
    ring_.push_back({at, kind, client});
    return;
  }
  Event& slot = ring_[next_];
  lost_up_to_ = std::max(lost_up_to_, slot.at);
  slot = {at, kind, client};
  next_ = (next_ + 1) % capacity_;
}

DisruptionReport DisruptionLog::Since(absl::Time since) const {
  DisruptionReport report;
  absl::MutexLock lock(&mu_);
  report.truncated = lost_up_to_ >= since;
  for (const Event& e : ring_) {
    if (e.at >= since) report.clients[e.client][e.kind]++;
  }
  return report;
}

std::string DisruptionLog::ToJson(const DisruptionReport& report) {
  std::string out =
      absl::StrCat("{\"truncated\":", report.truncated ? "true" : "false", ",\"clients\":{");
  bool first = true;
  for (const auto& [client, d] : report.clients) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(client, &out);
    out += ":{";
    for (int k = 0; k < kDisruptionKinds; ++k) {
      const auto kind = static_cast<DisruptionKind>(k);
      absl::StrAppend(&out, k == 0 ? "" : ",", "\"", DisruptionKindName(kind), "\":", d[kind]);
    }
    out.push_back('}');
  }
  out += "}}\n";
  return out;
}

std::string ClientKeyOf(const std::string& client_header, const std::string& peer_address) {
  bool usable = !client_header.empty() && client_header.size() <= 128;
  for (char c : client_header) {
    if (c < 0x21 || c > 0x7e) usable = false;
  }
  return usable ? absl::StrCat("id:", client_header) : absl::StrCat("ip:", peer_address);
}

}  // namespace shadowplane::instance
