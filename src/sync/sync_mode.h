// Names of the agent protocol's sync modes, for logs, metrics labels and sync_runs rows.
#ifndef SHADOWPLANE_SYNC_SYNC_MODE_H_
#define SHADOWPLANE_SYNC_SYNC_MODE_H_

#include "shadowplane/agent/v1/sync.pb.h"

namespace shadowplane::sync {

inline const char* SyncModeName(shadowplane::agent::v1::SyncMode mode) {
  switch (mode) {
    case shadowplane::agent::v1::QUICK:
      return "quick";
    case shadowplane::agent::v1::CHECKSUM:
      return "checksum";
    case shadowplane::agent::v1::FINAL:
      return "final";
    default:
      return "unspecified";
  }
}

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_SYNC_MODE_H_
