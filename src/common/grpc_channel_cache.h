// One gRPC channel per endpoint and expected peer, created on first use and kept: channels
// reconnect by themselves, so callers that talk to many agents share them instead of paying a
// handshake per call. Each channel is secured as the process is (common/transport_security.h):
// with TLS, the peer must present a certificate naming the identity asked for.
// At most `max_channels` are kept: past that, the one used least recently is dropped (its
// connection closes once no call holds it), so that endpoints that come and go over months, or
// that a peer names at will, never pile up connections and memory.
// Thread-safe. Header-only; users link sp_transport.
#ifndef SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
#define SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_

#include <grpcpp/channel.h>

#include <list>
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
  static constexpr size_t kDefaultMaxChannels = 1024;

  explicit GrpcChannelCache(std::shared_ptr<const TransportSecurity> security,
                            size_t max_channels = kDefaultMaxChannels)
      : security_(security != nullptr ? std::move(security) : TransportSecurity::Insecure()),
        max_channels_(max_channels > 0 ? max_channels : 1) {}

  // `peer_identity`: kControlPlaneIdentity or AgentIdentity(location).
  std::shared_ptr<grpc::Channel> Get(const std::string& endpoint,
                                     const std::string& peer_identity) {
    absl::MutexLock lock(&mu_);
    const Key key{endpoint, peer_identity};
    auto it = channels_.find(key);
    if (it != channels_.end()) {
      recency_.splice(recency_.begin(), recency_, it->second.recency);
      return it->second.channel;
    }
    if (channels_.size() >= max_channels_) {
      channels_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(key);
    Entry& entry = channels_[key];
    entry.channel = security_->Channel(endpoint, peer_identity);
    entry.recency = recency_.begin();
    return entry.channel;
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return channels_.size();
  }

 private:
  using Key = std::pair<std::string, std::string>;
  struct Entry {
    std::shared_ptr<grpc::Channel> channel;
    std::list<Key>::iterator recency;
  };

  const std::shared_ptr<const TransportSecurity> security_;
  const size_t max_channels_;
  absl::Mutex mu_;
  std::map<Key, Entry> channels_ ABSL_GUARDED_BY(mu_);
  std::list<Key> recency_ ABSL_GUARDED_BY(mu_);  // most recently used first
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_GRPC_CHANNEL_CACHE_H_
