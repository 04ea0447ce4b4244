#include "agent/telemetry_spool.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::agent {

namespace {

constexpr char kCursors[] = "cursors";
constexpr char kSuffix[] = ".batch";

}  // namespace

std::string AccessBatchId(const std::string& instance_id, const std::string& epoch, int64_t first,
                          int64_t last) {
  return absl::StrCat("a-", instance_id, "-", epoch, "-", first, "-", last);
}

std::optional<CoveredRecords> CoveredBy(const std::string& batch_id) {
  if (batch_id.rfind("a-", 0) != 0) return std::nullopt;
  // The instance id may hold dashes: the last three fields are epoch, first and last.
  const std::vector<std::string> parts = absl::StrSplit(batch_id.substr(2), '-');
  if (parts.size() < 4) return std::nullopt;
  CoveredRecords c;
  const size_t n = parts.size();
  c.epoch = parts[n - 3];
  if (!absl::SimpleAtoi(parts[n - 2], &c.first) || !absl::SimpleAtoi(parts[n - 1], &c.last) ||
      c.first < 1 || c.last < c.first || c.epoch.empty()) {
    return std::nullopt;
  }
  for (size_t i = 0; i + 3 < n; ++i) absl::StrAppend(&c.instance_id, i == 0 ? "" : "-", parts[i]);
  if (c.instance_id.empty()) return std::nullopt;
  return c;
}

absl::StatusOr<std::unique_ptr<TelemetrySpool>> TelemetrySpool::Open(const std::string& dir,
                                                                     int64_t max_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("the telemetry spool ", dir, " cannot be created: ", ec.message()));
  }
  std::unique_ptr<TelemetrySpool> spool(new TelemetrySpool(dir, max_bytes));
  RETURN_IF_ERROR(spool->Recover());
  return spool;
}

std::string TelemetrySpool::PathOf(int64_t number, int64_t records) const {
  return absl::StrFormat("%s/%016d-%d%s", dir_, number, records, kSuffix);
}

void TelemetrySpool::NoteCoveredLocked(const std::string& batch_id,
                                       std::map<std::string, LogCursor>& into) {
  const std::optional<CoveredRecords> c = CoveredBy(batch_id);
  if (!c.has_value()) return;
  LogCursor& cursor = into[c->instance_id];
  if (cursor.epoch != c->epoch || cursor.last < c->last) cursor = {c->epoch, c->last};
}

absl::Status TelemetrySpool::Recover() {
  absl::MutexLock lock(&mu_);
  if (absl::StatusOr<std::string> text = ReadFile(absl::StrCat(dir_, "/", kCursors)); text.ok()) {
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      const std::vector<std::string> f = absl::StrSplit(line, '\t');
      int64_t last = 0;
      if (f.size() != 3 || !absl::SimpleAtoi(f[2], &last)) continue;  // a torn line: re-read
      shipped_[f[0]] = {f[1], last};
    }
  }
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the telemetry spool ", dir_, " cannot be read: ", strerror(errno)));
  }
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const size_t dash = name.find('-');
    int64_t number = 0, records = 0;
    if (name.size() <= sizeof(kSuffix) || name.substr(name.size() - 6) != kSuffix ||
        dash == std::string::npos || !absl::SimpleAtoi(name.substr(0, dash), &number) ||
        !absl::SimpleAtoi(name.substr(dash + 1, name.size() - 6 - dash - 1), &records)) {
      continue;  // temporary files of an interrupted write, and anything else
    }
    std::error_code ec;
    const int64_t size =
        static_cast<int64_t>(std::filesystem::file_size(absl::StrCat(dir_, "/", name), ec));
    files_[number] = {records, ec ? 0 : size};
    bytes_ += ec ? 0 : size;
    next_ = std::max(next_, number + 1);
  }
  closedir(d);
  // What each spooled batch covers (its id is inside).
  for (const auto& [number, entry] : files_) {
    absl::StatusOr<std::string> data = ReadFile(PathOf(number, entry.records));
    if (!data.ok()) continue;
    if (absl::StatusOr<TelemetryBatch> batch = DecodeBatch(*data); batch.ok()) {
      NoteCoveredLocked(batch->batch_id, spooled_);
    }
  }
  return absl::OkStatus();
}

absl::Status TelemetrySpool::Append(const TelemetryBatch& batch) {
  const std::string data = EncodeBatch(batch);
  const int64_t records = batch.records();
  absl::MutexLock lock(&mu_);
  const int64_t number = next_;
  if (absl::Status s = WriteFileAtomically(PathOf(number, records), data, 0600); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a telemetry batch cannot be spooled: ", s.message()));
  }
  ++next_;
  files_[number] = {records, static_cast<int64_t>(data.size())};
  bytes_ += static_cast<int64_t>(data.size());
  NoteCoveredLocked(batch.batch_id, spooled_);
  // Past the bound: the oldest go (never the one just written).
  while (bytes_ > max_bytes_ && files_.size() > 1) {
    const auto oldest = files_.begin();
    unlink(PathOf(oldest->first, oldest->second.records).c_str());
    bytes_ -= oldest->second.bytes;
    dropped_ += oldest->second.records;
    LOG_EVENT(kWarning, "telemetry spool full: oldest batch dropped")
        .Field("records", oldest->second.records)
        .Field("max_bytes", max_bytes_);
    files_.erase(oldest);
  }
  return absl::OkStatus();
}

std::optional<std::pair<int64_t, TelemetryBatch>> TelemetrySpool::Oldest() {
  absl::MutexLock lock(&mu_);
  while (!files_.empty()) {
    const auto oldest = files_.begin();
    const std::string path = PathOf(oldest->first, oldest->second.records);
    absl::StatusOr<std::string> data = ReadFile(path);
    if (data.ok()) {
      absl::StatusOr<TelemetryBatch> batch = DecodeBatch(*data);
      if (batch.ok()) return std::make_pair(oldest->first, *std::move(batch));
    }
    LOG_EVENT(kError, "unreadable telemetry batch dropped").Field("path", path);
    unlink(path.c_str());
    bytes_ -= oldest->second.bytes;
    dropped_ += oldest->second.records;
    files_.erase(oldest);
  }
  return std::nullopt;
}

absl::Status TelemetrySpool::WriteCursorsLocked() {
  std::string text;
  for (const auto& [instance, c] : shipped_) {
    absl::StrAppend(&text, instance, "\t", c.epoch, "\t", c.last, "\n");
  }
  return WriteFileAtomically(absl::StrCat(dir_, "/", kCursors), text, 0600);
}

absl::Status TelemetrySpool::Acknowledge(int64_t number, const TelemetryBatch& batch) {
  absl::MutexLock lock(&mu_);
  const auto it = files_.find(number);
  if (it == files_.end()) return absl::OkStatus();  // dropped meanwhile
  if (const std::optional<CoveredRecords> c = CoveredBy(batch.batch_id); c.has_value()) {
    // Recorded before the file goes: a crash in between resends it, and the id makes that
    // harmless; the other order could read its records again under a new id.
    NoteCoveredLocked(batch.batch_id, shipped_);
    RETURN_IF_ERROR(WriteCursorsLocked());
    const auto spooled = spooled_.find(c->instance_id);
    if (spooled != spooled_.end() && spooled->second.epoch == c->epoch &&
        spooled->second.last <= c->last) {
      spooled_.erase(spooled);
    }
  }
  unlink(PathOf(number, it->second.records).c_str());
  bytes_ -= it->second.bytes;
  files_.erase(it);
  return absl::OkStatus();
}

std::map<std::string, LogCursor> TelemetrySpool::Cursors() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, LogCursor> out = shipped_;
  for (const auto& [instance, c] : spooled_) out[instance] = c;
  return out;
}

int64_t TelemetrySpool::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

int64_t TelemetrySpool::batches() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(files_.size());
}

int64_t TelemetrySpool::dropped_records() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace shadowplane::agent
