#include "agent/process_usage.h"

#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"

namespace shadowplane::agent {

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  absl::StatusOr<std::string> stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  absl::StatusOr<std::string> statm = ReadFile(absl::StrCat("/proc/", pid, "/statm"));
  if (!stat.ok() || !statm.ok()) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  }
  // The command name (field 2) is in parentheses and may hold anything: fields count from after
  // its closing one, where field 3 (state) is first; utime and stime are fields 14 and 15.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat("/proc/", pid, "/stat is not understood"));
  }
  const std::vector<std::string> fields =
      absl::StrSplit(stat->substr(close + 1), ' ', absl::SkipEmpty());
  int64_t utime = 0, stime = 0, resident_pages = 0;
  const std::vector<std::string> pages = absl::StrSplit(*statm, ' ', absl::SkipEmpty());
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime) || pages.size() < 2 ||
      !absl::SimpleAtoi(pages[1], &resident_pages)) {
    return absl::FailedPreconditionError(absl::StrCat("/proc/", pid, " is not understood"));
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  ProcessUsage u;
  u.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
  u.resident_bytes = resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
  return u;
}

}  // namespace shadowplane::agent
