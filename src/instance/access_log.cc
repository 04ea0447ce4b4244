#include "instance/access_log.h"

#include <algorithm>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace shadowplane::instance {

namespace {

std::string NewEpoch() {
  std::random_device random;
  const uint64_t high = random();
  const uint64_t low = random();
  return absl::StrFormat("%016x", (high << 32) ^ low);
}

bool Printable(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string UsableClientId(const std::string& header) {
  return Printable(header, 128) ? header : "";
}

AccessLog::AccessLog(size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity), epoch_(NewEpoch()) {}

void AccessLog::Note(AccessRecord record) {
  absl::MutexLock lock(&mu_);
  record.seq = ++last_;
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(record));
  } else {
    ring_[static_cast<size_t>(record.seq - 1) % capacity_] = std::move(record);
  }
}

AccessPage AccessLog::After(int64_t after, int max) const {
  AccessPage page;
  page.epoch = epoch_;
  max = std::clamp(max, 1, kMaxAccessPage);
  absl::MutexLock lock(&mu_);
  after = std::clamp<int64_t>(after, 0, last_);
  const int64_t oldest = last_ - static_cast<int64_t>(ring_.size()) + 1;  // the oldest kept
  const int64_t first = std::max(after + 1, oldest);
  page.lost = first - (after + 1);
  const int64_t end = std::min(last_, first + max - 1);
  for (int64_t seq = first; seq <= end; ++seq) {
    page.records.push_back(ring_[static_cast<size_t>(seq - 1) % capacity_]);
  }
  page.next = end + 1;
  return page;
}

std::string AccessLog::ToText(const AccessPage& page) {
  std::string out = absl::StrCat(page.epoch, "\t", page.next, "\t", page.lost, "\t",
                                 page.bytes_in_total, "\t", page.bytes_out_total, "\n");
  for (const AccessRecord& r : page.records) {
    absl::StrAppend(&out, r.seq, "\t", absl::ToUnixMicros(r.at), "\t", r.client_ip, "\t",
                    r.client_id.empty() ? "-" : r.client_id, "\t", r.method, "\t", r.bytes_in, "\t",
                    r.bytes_out, "\t", absl::ToInt64Microseconds(r.latency), "\t", r.status, "\n");
  }
  return out;
}

absl::StatusOr<AccessPage> AccessLog::FromText(const std::string& text) {
  AccessPage page;
  int line_number = 0;
  auto bad = [&line_number](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("access page line ", line_number, ": ", why));
  };
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++line_number;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (line_number == 1) {
      if (f.size() != 5 || !Printable(f[0], 64) || !absl::SimpleAtoi(f[1], &page.next) ||
          !absl::SimpleAtoi(f[2], &page.lost) || !absl::SimpleAtoi(f[3], &page.bytes_in_total) ||
          !absl::SimpleAtoi(f[4], &page.bytes_out_total) || page.next < 1 || page.lost < 0) {
        return bad("not an access page header");
      }
      page.epoch = f[0];
      continue;
    }
    if (line_number > kMaxAccessPage + 1) return bad("more records than a page holds");
    AccessRecord r;
    int64_t at_us = 0, latency_us = 0;
    if (f.size() != 9 || !absl::SimpleAtoi(f[0], &r.seq) || !absl::SimpleAtoi(f[1], &at_us) ||
        !absl::SimpleAtoi(f[5], &r.bytes_in) || !absl::SimpleAtoi(f[6], &r.bytes_out) ||
        !absl::SimpleAtoi(f[7], &latency_us) || !absl::SimpleAtoi(f[8], &r.status)) {
      return bad("not an access record");
    }
    if (r.seq < 1 || r.bytes_in < 0 || r.bytes_out < 0 || latency_us < 0 || !Printable(f[2], 64) ||
        !Printable(f[3], 128) || !Printable(f[4], 64)) {
      return bad("a value out of range");
    }
    r.at = absl::FromUnixMicros(at_us);
    r.latency = absl::Microseconds(latency_us);
    r.client_ip = f[2];
    r.client_id = f[3] == "-" ? "" : f[3];
    r.method = f[4];
    page.records.push_back(std::move(r));
  }
  if (line_number == 0) return bad("empty");
  return page;
}

}  // namespace shadowplane::instance
