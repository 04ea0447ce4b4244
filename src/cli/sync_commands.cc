// shadowctl's commands for shadow sync rounds.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

class SyncCommands : public CommandContext {
 public:
  explicit SyncCommands(const CommandContext& context) : CommandContext(context) {}

  int SyncNow(const std::string& id) {
    pb::SyncNowRequest request;
    request.set_reservation_id(id);
    request.set_full(options_.full);
    pb::SyncRun run;
    auto context = Context();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(1)));  // a whole round
    grpc::Status status = sync_->SyncNow(context.get(), request, &run);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(run), kExitOk;
    out_ << absl::StrFormat(
        "%s round %d: %d of %d files transferred, %d deleted in %.3f s\n"
        "bytes: %d on the wire (literal %d, signatures %d), %d rebuilt from the shadow's copy\n",
        run.mode(), run.id(), run.files_transferred(), run.files_total(), run.files_deleted(),
        run.duration_seconds(), run.bytes_wire(), run.bytes_literal(), run.bytes_signature(),
        run.bytes_matched());
    if (run.has_identical()) {
      out_ << "tree hashes: source " << run.source_tree_hash().substr(0, 16) << ", shadow "
           << run.target_tree_hash().substr(0, 16)
           << (run.identical() ? " (identical)\n" : " (DIFFERENT)\n");
    }
    if (run.dirty_files() > 0) {
      out_ << "changed during the round (the next round takes them): " << run.dirty_files()
           << " files, " << run.dirty_bytes() << " bytes\n";
      for (const auto& d : run.dirty()) out_ << "  " << d.path() << "  " << d.size() << "\n";
    }
    return kExitOk;
  }

  int ListSyncRuns(const std::string& id) {
    pb::ListSyncRunsRequest request;
    request.set_reservation_id(id);
    pb::ListSyncRunsResponse response;
    grpc::Status status = sync_->ListSyncRuns(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"id", "started", "trigger", "mode", "result", "seconds", "files", "wire bytes",
                 "dirty", "error"});
    for (const auto& r : response.runs()) {
      table.AddRow({absl::StrCat(r.id()),
                    google::protobuf::util::TimeUtil::ToString(r.started_at()), r.trigger(),
                    r.mode(), r.result(), absl::StrFormat("%.3f", r.duration_seconds()),
                    absl::StrCat(r.files_transferred(), "/", r.files_total()),
                    absl::StrCat(r.bytes_wire()), absl::StrCat(r.dirty_files()), r.error()});
    }
    out_ << table.Render();
    return kExitOk;
  }
};

}  // namespace

void AddSyncCommands(CommandTable* table) {
  table->push_back({{"sync"},
                    {"ID"},
                    "[--full]",
                    "run a shadow sync round now (--full: compare contents)",
                    CallWith<SyncCommands, &SyncCommands::SyncNow>});
  table->push_back({{"syncs"},
                    {"ID"},
                    "",
                    "the reservation's sync rounds, newest first",
                    CallWith<SyncCommands, &SyncCommands::ListSyncRuns>});
}

}  // namespace shadowplane::cli
