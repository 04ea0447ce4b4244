// absl::Time and absl::Duration <-> google.protobuf.Timestamp and Duration: one conversion for
// every message that carries a time, in the API handlers and in the services that read requests.
#ifndef SHADOWPLANE_COMMON_PROTO_TIME_H_
#define SHADOWPLANE_COMMON_PROTO_TIME_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane {

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

inline absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// A peer's timestamp, refused with INVALID_ARGUMENT naming `field` when it lies outside
// google.protobuf.Timestamp's range (years 1-9999) or has nanos outside [0, 1e9).
inline absl::StatusOr<absl::Time> CheckedProtoTime(const google::protobuf::Timestamp& t,
                                                   absl::string_view field) {
  using google::protobuf::util::TimeUtil;
  if (t.seconds() < TimeUtil::kTimestampMinSeconds ||
      t.seconds() > TimeUtil::kTimestampMaxSeconds || t.nanos() < 0 || t.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not a valid timestamp"));
  }
  return FromProtoTime(t);
}

inline google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  return google::protobuf::util::TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

inline absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_PROTO_TIME_H_
