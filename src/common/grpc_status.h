// absl::Status -> grpc::Status, the one place where the two meet (codes share their numbers).
#ifndef SHADOWPLANE_COMMON_GRPC_STATUS_H_
#define SHADOWPLANE_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace shadowplane {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_STATUS_H_
