// What one side of a Pull stream accepts from the other. Either peer may be hostile (a
// compromised agent): every quantity it controls that costs the receiver memory, disk or CPU is
// bounded here, and a peer past a bound ends the round with RESOURCE_EXHAUSTED naming the limit.
// The defaults sit well above what an honest peer sends (see each field); the README's limits
// table lists them.
#ifndef SHADOWPLANE_SYNC_SYNC_LIMITS_H_
#define SHADOWPLANE_SYNC_SYNC_LIMITS_H_

#include <cstdint>

namespace shadowplane::sync {

struct SyncLimits {
  // Target side: entries of the source's manifest, and the bytes of their paths and link targets.
  // A tree of 4 million entries with 256-byte paths holds about 1.4 GiB in the target's memory.
  int64_t max_manifest_entries = 4'000'000;
  int64_t max_manifest_path_bytes = int64_t{1} << 30;
  // Target side: a rebuilt file may exceed the size the manifest declared (it may grow while the
  // round runs) by its declared size again plus this much; a delta past that is refused before
  // it fills the disk (a few bytes of COPY commands can repeat a large basis many times).
  int64_t delta_slack_bytes = int64_t{64} << 20;
  // Source side: one basis signature. Ours index at most 2^18 blocks of at most 36 bytes
  // (sync/signature.cc), about 9.4 MiB.
  int64_t max_signature_bytes = int64_t{16} << 20;
  // Source side: files whose signature is still arriving. An honest target sends one signature
  // after another, so one at a time.
  int64_t max_files_receiving = 64;
};

// The most a file declared at `declared_size` bytes may be rebuilt to (no overflow).
int64_t MaxRebuiltSize(const SyncLimits& limits, int64_t declared_size);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_SYNC_LIMITS_H_
