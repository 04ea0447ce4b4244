// absl::Time -> google.protobuf.Timestamp, for every response that carries a time.
#ifndef SHADOWPLANE_API_PROTO_TIME_H_
#define SHADOWPLANE_API_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "absl/time/time.h"

namespace shadowplane::api {

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_PROTO_TIME_H_
