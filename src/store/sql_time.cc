#include "store/sql_time.h"

namespace shadowplane::store {

std::string ToSqlTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::Time FromSqlTime(const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return absl::UnixEpoch();
  return t;
}

}  // namespace shadowplane::store
