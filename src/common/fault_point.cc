#include "common/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace shadowplane {

namespace {

struct Armed {
  std::string name;
  int nth = 1;
};

// Read once: the environment does not change under a running process.
const Armed* ArmedPoint() {
  static const Armed* armed = []() -> const Armed* {
    const char* value = std::getenv(kFaultPointEnv);
    if (value == nullptr || *value == '\0') return nullptr;
    auto* a = new Armed;
    a->name = value;
    if (const size_t at = a->name.rfind('@'); at != std::string::npos) {
      int nth = 0;
      if (absl::SimpleAtoi(a->name.substr(at + 1), &nth) && nth > 0) a->nth = nth;
      a->name.resize(at);
    }
    return a;
  }();
  return armed;
}

std::atomic<int> hits{0};

}  // namespace

void FaultPoint(absl::string_view name) {
  const Armed* armed = ArmedPoint();
  if (armed == nullptr || name != armed->name) return;
  if (hits.fetch_add(1) + 1 < armed->nth) return;
  LOG_EVENT(kWarning, "fault point reached: dying").Field("point", std::string(name));
  // The log line is written synchronously; nothing else is given a chance to run.
  kill(getpid(), SIGKILL);
  _exit(137);  // not reached
}

}  // namespace shadowplane
