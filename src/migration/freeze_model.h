// How long a cutover's write freeze lasts: the planner prices a move with it, and the traffic
// layer's hold bound (how long the old primary holds a write) is set above its high percentile,
// so that held writes do not time out.
//
// The freeze runs from holding writes at the source to the target taking them: the final delta
// round dominates, so the model is linear in what that round moves,
//   seconds = base + per_mib * dirty MiB + per_file * dirty files,
// fitted by least squares with non-negative coefficients to measured cutovers. Before
// kMinSamples measurements it is the documented default (DefaultFreezeModel): the sync
// benchmark's final rounds on a 2-core machine (bench/README.md: 0.25 s for 1 dirty file, 0.51 s
// for 50 files and 101 MiB) rounded up about twofold, with room in the base for the traffic
// switch and the instances' reconfiguration.
#ifndef SHADOWPLANE_MIGRATION_FREEZE_MODEL_H_
#define SHADOWPLANE_MIGRATION_FREEZE_MODEL_H_

#include <cstdint>
#include <vector>

namespace shadowplane::migration {

inline constexpr int kMinSamples = 5;

// One measured cutover.
struct CutoverSample {
  int64_t dirty_bytes = 0;
  int64_t dirty_files = 0;
  double freeze_seconds = 0;
};

struct FreezeModel {
  double base_seconds = 0;
  double seconds_per_mib = 0;
  double seconds_per_file = 0;
  // The 95th percentile of the fit's residuals (0 for the default): High() adds it.
  double residual_p95_seconds = 0;
  int samples = 0;  // 0: the default

  // The expected freeze for a final round of this size.
  double Expected(int64_t dirty_bytes, int64_t dirty_files) const;
  // A high estimate (expected plus the residuals' 95th percentile, at least 1.5 times expected):
  // what hold bounds are set above.
  double High(int64_t dirty_bytes, int64_t dirty_files) const;
};

// 0.5 s + 0.005 s per MiB + 0.005 s per file.
FreezeModel DefaultFreezeModel();

// The least-squares fit to `samples` (non-negative coefficients); the default with fewer than
// kMinSamples or when they cannot be fitted (all the same size).
FreezeModel FitFreezeModel(const std::vector<CutoverSample>& samples);

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_FREEZE_MODEL_H_
