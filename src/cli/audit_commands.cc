// shadowctl audit list: the audit trail, newest first (AuditService.ListAuditEvents; admin).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {
namespace {

class AuditCommands : public CommandContext {
 public:
  explicit AuditCommands(const CommandContext& context) : CommandContext(context) {}

  int ListAudit() {
    if (options_.limit < 1 || options_.limit > 1000) {
      err_ << "shadowctl: --limit must be 1 to 1000\n";
      return kExitUsage;
    }
    pb::ListAuditEventsRequest request;
    request.set_caller(options_.caller);
    request.set_method(options_.method);
    request.set_code(options_.code);
    request.set_page_size(options_.limit);
    if (!options_.from.empty() && !ParseTimeFlag("from", options_.from, request.mutable_from())) {
      return kExitUsage;
    }
    if (!options_.to.empty() && !ParseTimeFlag("to", options_.to, request.mutable_to())) {
      return kExitUsage;
    }
    pb::ListAuditEventsResponse response;
    grpc::Status status = audit_->ListAuditEvents(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table(
        {"at (utc)", "caller", "role", "method", "targets", "request id", "code", "message"});
    for (const pb::AuditEvent& e : response.events()) {
      std::vector<std::string> targets;
      for (const auto& [k, v] : e.targets()) targets.push_back(absl::StrCat(k, "=", v));
      std::sort(targets.begin(), targets.end());
      table.AddRow({TimeText(e.at()), e.caller(), e.role().empty() ? "-" : e.role(),
                    e.method().substr(e.method().rfind('.') + 1), absl::StrJoin(targets, " "),
                    e.request_id(), e.code(), e.message()});
    }
    out_ << table.Render();
    return kExitOk;
  }
};

}  // namespace

void AddAuditCommands(CommandTable* table) {
  table->push_back({{"audit", "list"},
                    {},
                    "[--caller=NAME] [--method=M] [--code=C] [--from=T] [--to=T] [--limit=N]",
                    "the audit trail, newest first: who changed what, and who was refused (admin)",
                    Call<AuditCommands, &AuditCommands::ListAudit>});
}

}  // namespace shadowplane::cli
