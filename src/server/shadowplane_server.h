// The shadowplane control-plane process, wired from its options: clock, metrics endpoint,
// database (embedded or external) with its supervisor, and the gRPC server with health,
// reflection, per-RPC metrics and the public services.
//
// Start() returns once the gRPC and metrics ports are bound (the database may still be coming up:
// health says NOT_SERVING until it is ready). Shutdown() may be called from any thread, e.g. a
// signal handler thread; Wait() then stops accepting calls, lets in-flight calls finish within
// `shutdown_grace`, and stops everything the process started, the embedded database last.
#ifndef SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_
#define SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/server_options.h"

namespace shadowplane::server {

class ShadowplaneServer {
 public:
  // INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when a port cannot be bound or the
  // data directory is unusable (the message says which and why).
  static absl::StatusOr<std::unique_ptr<ShadowplaneServer>> Start(const ServerOptions& options);
  ~ShadowplaneServer();

  // Asks Wait() to shut down. Thread-safe, idempotent.
  void Shutdown();
  // Blocks until Shutdown() or a fatal error, then shuts down gracefully. OK after a requested
  // shutdown; the fatal error otherwise.
  absl::Status Wait();

  int grpc_port() const;
  int metrics_port() const;

  class Impl;

 private:
  explicit ShadowplaneServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_
