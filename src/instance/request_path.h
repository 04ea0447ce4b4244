// Turns an HTTP request target into a path inside the instance's data directory, or refuses it.
// Refused (INVALID_ARGUMENT, answered with 400): ".." or "." segments, encoded slashes, backslashes
// or NUL bytes (%2F, %5C, %00), malformed percent escapes, and anything not starting with "/".
// Symlinks are not resolved here: the file server checks that what it opens stays inside.
#ifndef SHADOWPLANE_INSTANCE_REQUEST_PATH_H_
#define SHADOWPLANE_INSTANCE_REQUEST_PATH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shadowplane::instance {

// `target` is the raw request target ("/a/b%20c.txt?x=1"). Returns the decoded relative path
// ("a/b c.txt"; "" for the root).
absl::StatusOr<std::string> ResolveRequestPath(absl::string_view target);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_REQUEST_PATH_H_
