// One gRPC channel per endpoint and expected peer, created on first use and kept: channels
// reconnect by themselves, so callers that talk to many agents share them instead of paying a
// handshake per call. Each channel is secured as the process is (common/transport_security.h):
// with TLS, the peer must present a certificate naming the identity asked for.
// Thread-safe. Header-only; users link sp_transport.
#ifndef SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
#define SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/transport_security.h"

namespace shadowplane {

class GrpcChannelCache {
 public:
  explicit GrpcChannelCache(std::shared_ptr<const TransportSecurity> security)
      : security_(security != nullptr ? std::move(security) : TransportSecurity::Insecure()) {}

  // `peer_identity`: kControlPlaneIdentity or AgentIdentity(location).
  std::shared_ptr<grpc::Channel> Get(const std::string& endpoint,
                                     const std::string& peer_identity) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<grpc::Channel>& channel = channels_[{endpoint, peer_identity}];
    if (channel == nullptr) channel = security_->Channel(endpoint, peer_identity);
    return channel;
  }

 private:
  const std::shared_ptr<const TransportSecurity> security_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
