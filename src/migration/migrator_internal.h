// What the Migrator's steps (src/migration/step_*.cc) share: the live state a step works on and
// small helpers for events' JSON, hours and rounds. Internal to src/migration/.
#ifndef SHADOWPLANE_MIGRATION_MIGRATOR_INTERNAL_H_
#define SHADOWPLANE_MIGRATION_MIGRATOR_INTERNAL_H_

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fault_point.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "migration/migrator.h"
#include "planner/placement.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "store/migration_state.h"

namespace shadowplane::migration {

inline constexpr absl::Duration kSlotPoll = absl::Seconds(1);
inline constexpr absl::Duration kObservePoll = absl::Minutes(1);

inline std::string Quote(const std::string& s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// {"k": v, ...} from already-encoded values.
inline std::string Json(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string out = "{";
  for (const auto& [key, value] : fields) {
    if (out.size() > 1) out += ", ";
    absl::StrAppend(&out, Quote(key), ": ", value);
  }
  return out + "}";
}

inline absl::Time HourFloor(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 3600 * 3600);
}

// The share of hour [h, h+1h) that lies inside [from, to).
inline double Overlap(absl::Time h, absl::Time from, absl::Time to) {
  const absl::Time start = std::max(h, from), end = std::min(h + absl::Hours(1), to);
  // FDivDuration: Duration / Duration is an integer division, which would make any part of an
  // hour 0.
  return end <= start ? 0 : absl::FDivDuration(end - start, absl::Hours(1));
}

// A migration's round as the sync round it ran.
inline store::MigrationRoundRecord RoundOf(const store::SyncRunRecord& run, int number,
                                           const char* kind) {
  store::MigrationRoundRecord round;
  round.round = number;
  round.kind = kind;
  round.at = run.started_at;
  round.files_transferred = run.files_transferred;
  round.bytes_literal = run.bytes_literal;
  round.bytes_wire = run.bytes_wire;
  round.dirty_files = run.dirty_files;
  round.dirty_bytes = run.dirty_bytes;
  round.duration_seconds = run.duration_seconds;
  return round;
}

struct Migrator::Context {
  store::ReservationRecord reservation;
  std::vector<store::InstanceRecord> instances;
  store::InstanceRecord source;
  store::InstanceRecord target;  // empty id: not chosen yet

  const store::InstanceRecord* Find(const std::string& id) const {
    for (const auto& i : instances) {
      if (i.id == id) return &i;
    }
    return nullptr;
  }
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_MIGRATOR_INTERNAL_H_
