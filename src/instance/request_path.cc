#include "instance/request_path.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/hex_digit.h"
#include "common/sync_temporary_name.h"

namespace shadowplane::instance {

absl::StatusOr<std::string> ResolveRequestPath(absl::string_view target) {
  const size_t query = target.find_first_of("?#");
  const absl::string_view raw = target.substr(0, query);
  if (raw.empty() || raw[0] != '/') {
    return absl::InvalidArgumentError("request path must start with '/'");
  }
  std::vector<std::string> segments;
  // Split before decoding: an encoded '/' must never create a segment boundary.
  for (absl::string_view encoded : absl::StrSplit(raw.substr(1), '/')) {
    std::string segment;
    for (size_t i = 0; i < encoded.size(); ++i) {
      char c = encoded[i];
      if (c == '%') {
        if (i + 2 >= encoded.size()) {
          return absl::InvalidArgumentError("malformed percent escape in request path");
        }
        const int hi = HexDigitValue(encoded[i + 1]);
        const int lo = HexDigitValue(encoded[i + 2]);
        if (hi < 0 || lo < 0) {
          return absl::InvalidArgumentError("malformed percent escape in request path");
        }
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
        if (c == '/' || c == '\\' || c == '\0') {
          return absl::InvalidArgumentError("encoded '/', '\\' or NUL in request path");
        }
      } else if (c == '\\') {
        return absl::InvalidArgumentError("'\\' in request path");
      }
      segment.push_back(c);
    }
    if (segment == ".." || segment == ".") {
      return absl::InvalidArgumentError("'.' and '..' segments are not allowed in request paths");
    }
    if (segment.empty()) continue;  // "//" and a trailing "/"
    if (segment.size() > 255) {     // NAME_MAX: the file system would refuse it (a 500)
      return absl::InvalidArgumentError("a name in the request path is longer than 255 bytes");
    }
    if (IsSyncTemporaryName(segment)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the name ", segment, " is reserved for the temporary files of a sync"));
    }
    segments.push_back(std::move(segment));
  }
  return absl::StrJoin(segments, "/");
}

}  // namespace shadowplane::instance
