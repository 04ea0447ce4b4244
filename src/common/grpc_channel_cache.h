// One gRPC channel per endpoint, created on first use and kept: channels reconnect by themselves,
// so callers that talk to many agents share them instead of paying a handshake per call.
// Thread-safe. Header-only; users link gRPC.
#ifndef SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
#define SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane {

class GrpcChannelCache {
 public:
  std::shared_ptr<grpc::Channel> Get(const std::string& endpoint) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<grpc::Channel>& channel = channels_[endpoint];
    if (channel == nullptr) {
      channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
    }
    return channel;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
