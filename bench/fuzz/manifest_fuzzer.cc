// Fuzzes manifest validation on the target (sync/pull_client.h, sync/safe_path.h): an entry
// parsed from the input, and the input as a path. A path that passes must be one the target can
// use safely: relative, with no "." or ".." component, no NUL.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "sync/pull_client.h"
#include "sync/safe_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  shadowplane::agent::v1::Entry entry;
  if (entry.ParseFromString(bytes)) (void)shadowplane::sync::ValidateManifestEntry(entry);
  if (shadowplane::sync::ValidateRelativePath(bytes).ok()) {
    if (bytes.empty() || bytes.front() == '/' || bytes.find('\0') != std::string::npos) {
      std::abort();
    }
    for (absl::string_view part : absl::StrSplit(bytes, '/')) {
      if (part.empty() || part == "." || part == "..") std::abort();
    }
  }
  return 0;
}
