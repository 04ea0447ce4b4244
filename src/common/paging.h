// Page sizes of list requests, the same for every list the services answer.
#ifndef SHADOWPLANE_COMMON_PAGING_H_
#define SHADOWPLANE_COMMON_PAGING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace shadowplane {

// page_size: 0 means the default (100); more than 1000 or negative is INVALID_ARGUMENT.
inline absl::Status PageSize(int32_t requested, int* size) {
  if (requested < 0 || requested > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be within [0, 1000], got ", requested));
  }
  *size = requested == 0 ? 100 : requested;
  return absl::OkStatus();
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_PAGING_H_
