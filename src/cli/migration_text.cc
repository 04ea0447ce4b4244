#include "cli/migration_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"

namespace shadowplane::cli {

std::string MibText(int64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string MigrationProgressLine(const shadowplane::v1::Migration& m) {
  const shadowplane::v1::MigrationProgress& p = m.progress();
  std::string line = m.state();
  if (p.precopy_rounds() > 0) absl::StrAppend(&line, "  pre-copy round ", p.precopy_rounds());
  if (p.has_bytes_left()) absl::StrAppend(&line, ", ", MibText(p.bytes_left()), " left");
  if (p.has_freeze_seconds()) {
    absl::StrAppend(&line, absl::StrFormat("  write freeze %.3f s", p.freeze_seconds()));
  }
  if (p.has_loss_window_seconds()) {
    absl::StrAppend(&line, absl::StrFormat("  loss window %.1f s", p.loss_window_seconds()));
  }
  if (p.has_paid_off()) absl::StrAppend(&line, p.paid_off() ? "  paid off" : "  did not pay off");
  if (p.has_realized_saving()) {
    absl::StrAppend(&line, absl::StrFormat(" ($%.4f", p.realized_saving()),
                    m.has_predicted_saving()
                        ? absl::StrFormat(", predicted $%.4f)", m.predicted_saving())
                        : ")");
  }
  if (p.has_realized_shift_at()) {
    const absl::Duration lead =
        FromProtoTime(p.realized_shift_at()) - FromProtoTime(m.created_at());
    absl::StrAppend(
        &line, "  started ",
        absl::FormatDuration(absl::Trunc(absl::AbsDuration(lead), absl::Minutes(1))),
        lead >= absl::ZeroDuration() ? " ahead of the demand shift" : " after the demand shift");
  }
  if (p.attempts() > 0) absl::StrAppend(&line, "  retry ", p.attempts(), ": ", p.last_error());
  if (!m.error().empty()) absl::StrAppend(&line, "  error: ", m.error());
  return line;
}

}  // namespace shadowplane::cli
