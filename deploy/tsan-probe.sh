#!/usr/bin/env bash
# Whether ThreadSanitizer can check code that synchronizes with Debian's Abseil: two threads add
# to a counter under a lock, 20 runs each, once with std::mutex and once with absl::Mutex. A
# report for absl::Mutex is a false one (the lock is held): TSan does not see into the Abseil
# library, which was built without it. Prints the number of runs with a report for each.
set -euo pipefail
command -v clang++ >/dev/null || { echo "clang++ is missing: apt-get install clang" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for lock in std absl; do
  if [ "$lock" = std ]; then
    header='#include <mutex>'; type='std::mutex'; guard='std::lock_guard<std::mutex> l(mu);'
  else
    header='#include "absl/synchronization/mutex.h"'; type='absl::Mutex'; guard='absl::MutexLock l(&mu);'
  fi
  cat > "$dir/$lock.cc" <<CC
#include <thread>
$header
$type mu;
long counter = 0;
int main() {
  auto work = [] { for (int i = 0; i < 100000; ++i) { $guard ++counter; } };
  std::thread a(work), b(work);
  a.join();
  b.join();
  return counter == 200000 ? 0 : 1;
}
CC
  clang++ -std=c++17 -fsanitize=thread -g "$dir/$lock.cc" -o "$dir/$lock" \
    $(pkg-config --libs absl_synchronization)
  reports=0
  for _ in $(seq 1 20); do
    if ! TSAN_OPTIONS=exitcode=66 "$dir/$lock" >"$dir/out" 2>&1 || grep -q 'data race' "$dir/out"; then
      reports=$((reports + 1))
    fi
  done
  echo "$type: $reports of 20 runs with a ThreadSanitizer report"
done
