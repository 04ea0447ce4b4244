#include "migration/freeze_model_keeper.h"

#include "common/status_macros.h"

namespace shadowplane::migration {

absl::StatusOr<FreezeModel> FreezeModelKeeper::Record(const std::string& migration_id,
                                                      const CutoverSample& sample) {
  if (sample.dirty_bytes < 0 || sample.dirty_files < 0 || !(sample.freeze_seconds >= 0)) {
    return absl::InvalidArgumentError("a cutover's size and freeze cannot be negative");
  }
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(cutovers_->Record(
      {migration_id, now, sample.dirty_bytes, sample.dirty_files, sample.freeze_seconds}));
  ASSIGN_OR_RETURN(const std::vector<store::CutoverRow> recent, cutovers_->Recent(kFitWindow));
  std::vector<CutoverSample> samples;
  for (const store::CutoverRow& r : recent) {
    samples.push_back({r.dirty_bytes, r.dirty_files, r.freeze_seconds});
  }
  const FreezeModel m = FitFreezeModel(samples);
  RETURN_IF_ERROR(cutovers_->SaveModel({m.base_seconds, m.seconds_per_mib, m.seconds_per_file,
                                        m.residual_p95_seconds, m.samples, now}));
  return m;
}

absl::StatusOr<FreezeModel> FreezeModelKeeper::Current() {
  ASSIGN_OR_RETURN(const std::optional<store::FreezeModelRow> row, cutovers_->LoadModel());
  if (!row.has_value()) return DefaultFreezeModel();
  FreezeModel m;
  m.base_seconds = row->base_seconds;
  m.seconds_per_mib = row->seconds_per_mib;
  m.seconds_per_file = row->seconds_per_file;
  m.residual_p95_seconds = row->residual_p95_seconds;
  m.samples = row->samples;
  return m;
}

}  // namespace shadowplane::migration
