// shadowplane: the control-plane server. See README.md for the flags, or run --help.

#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "common/log.h"
#include "server/process_startup.h"
#include "server/server_flags.h"
#include "server/shadowplane_server.h"

namespace {

using shadowplane::server::kExitConfigError;

int Main(int argc, char** argv) {
  // glibc gives each busy thread its own malloc arena (up to 8 per core) and rarely returns their
  // memory; the ingest path's threads would hold a multiple of what they use. Four arenas keep
  // the peak close to the live set at no measurable cost. MALLOC_ARENA_MAX still wins if set.
  if (getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
  if (auto exit_code = shadowplane::server::PrepareProcess(
          "shadowplane",
          "the shadowplane control plane: gRPC API, health, reflection and Prometheus metrics "
          "over PostgreSQL (an embedded private cluster unless --database_url is given).",
          argc, argv)) {
    return *exit_code;
  }

  // Checked by Start (ServerOptions::Validate): INVALID_ARGUMENT naming the flag.
  const shadowplane::server::ServerOptions options = shadowplane::server::ServerOptionsFromFlags();
  // Signals are blocked before the server starts its threads, which inherit the mask.
  shadowplane::server::StopOnSignal stop_on_signal;
  auto server = shadowplane::server::ShadowplaneServer::Start(options);
  if (!server.ok()) {
    LOG_EVENT(kError, "shadowplane failed to start").Field("error", server.status());
    std::cerr << "shadowplane: " << server.status().message() << "\n";
    return absl::IsInvalidArgument(server.status()) ? kExitConfigError : 1;
  }
  stop_on_signal.Arm([&server] { (*server)->Shutdown(); });
  const absl::Status result = (*server)->Wait();
  stop_on_signal.Disarm();
  if (!result.ok()) {
    std::cerr << "shadowplane: " << result.message() << "\n";
    return 1;
  }
  LOG_EVENT(kInfo, "shadowplane stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
