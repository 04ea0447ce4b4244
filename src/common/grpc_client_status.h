// A gRPC call's status as an absl::Status, for code that calls other processes (the codes share
// their numbers). The reverse of common/grpc_status.h, which only handlers use.
#ifndef SHADOWPLANE_COMMON_GRPC_CLIENT_STATUS_H_
#define SHADOWPLANE_COMMON_GRPC_CLIENT_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shadowplane {

// OK stays OK; otherwise the same code, and "CONTEXT: message".
inline absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(context, ": ", status.error_message()));
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_CLIENT_STATUS_H_
