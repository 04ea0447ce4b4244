// Text in requests that the database could not store faithfully.
//
// proto3 lets a NUL character through its UTF-8 check, but PostgreSQL text cannot hold one and
// libpq passes text parameters as C strings, so a NUL would silently cut a reason, a name or a
// filter short (a different request_id, a truncated seed_dir, a filter that matches more). No
// request of ours has a use for one, so every string of every unary request is checked at the
// handlers' shared entry point (common/grpc_unary.h), however deeply it is nested.
#ifndef SHADOWPLANE_COMMON_REQUEST_TEXT_H_
#define SHADOWPLANE_COMMON_REQUEST_TEXT_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shadowplane {

// Whether `text` holds a NUL character (which no PostgreSQL text column can store).
inline bool ContainsNul(absl::string_view text) {
  return text.find('\0') != absl::string_view::npos;
}

// OK, or INVALID_ARGUMENT naming the first string field that holds a NUL character, by its path
// in the request ("placement.regions[2]", "planner.blackouts[0].reason"; a map entry as
// "labels[key]").
absl::Status CheckRequestText(const google::protobuf::Message& request);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_REQUEST_TEXT_H_
