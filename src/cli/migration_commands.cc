// shadowctl's commands for migrations.
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
#include "cli/migration_text.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

class MigrationCommands : public CommandContext {
 public:
  explicit MigrationCommands(const CommandContext& context) : CommandContext(context) {}

  void PrintMigrations(const std::vector<const pb::Migration*>& list) {
    Table table({"id", "reservation", "kind", "state", "to", "capacity", "progress", "created"});
    for (const pb::Migration* m : list) {
      table.AddRow({m->id(), m->reservation_id(), m->kind(), m->state(), m->target_location(),
                    m->target_capacity_type(), MigrationProgressLine(*m).substr(m->state().size()),
                    google::protobuf::util::TimeUtil::ToString(m->created_at())});
    }
    out_ << table.Render();
  }

  int Migrate(const std::string& reservation_id) {
    pb::MigrateRequest request;
    request.set_reservation_id(reservation_id);
    request.set_target_location(Renamed("target", options_.target, "to", options_.to));
    request.set_capacity_type(options_.capacity_type);
    request.set_reason(options_.reason);
    request.set_kind(Renamed("migration_kind", options_.migration_kind, "kind", options_.kind));
    request.set_force(options_.force);
    request.set_request_id(options_.request_id.empty()
                               ? absl::StrCat("shadowctl-", absl::ToUnixNanos(absl::Now()))
                               : options_.request_id);
    pb::Migration m;
    grpc::Status status = migrations_->Migrate(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.watch) return WatchMigration(m.id());
    if (options_.json) return Json(m), kExitOk;
    PrintMigrations({&m});
    return kExitOk;
  }

  int ListMigrations() {
    pb::ListMigrationsRequest request;
    request.set_resource_id(options_.resource);
    request.set_state(options_.state);
    pb::ListMigrationsResponse all;
    if (grpc::Status status = ListAllMigrations(request, &all); !status.ok()) return Fail(status);
    if (options_.json) return Json(all), kExitOk;
    std::vector<const pb::Migration*> list;
    for (const auto& m : all.migrations()) list.push_back(&m);
    PrintMigrations(list);
    return kExitOk;
  }

  int GetMigration(const std::string& id) {
    pb::GetMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->GetMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(m), kExitOk;
    PrintMigrations({&m});
    Table events({"at", "from", "to", "detail"});
    for (const auto& e : m.events()) {
      events.AddRow({google::protobuf::util::TimeUtil::ToString(e.at()), e.from_state(),
                     e.to_state(), e.detail_json()});
    }
    out_ << "\n" << events.Render();
    if (m.rounds_size() > 0) {
      Table rounds({"round", "kind", "files", "new data", "wire", "changed meanwhile", "seconds"});
      for (const auto& r : m.rounds()) {
        rounds.AddRow({absl::StrCat(r.round()), r.kind(), absl::StrCat(r.files_transferred()),
                       MibText(r.bytes_literal()), MibText(r.bytes_wire()),
                       MibText(r.dirty_bytes()), absl::StrFormat("%.2f", r.duration_seconds())});
      }
      out_ << "\n" << rounds.Render();
    }
    if (!m.progress().observation_note().empty()) {
      out_ << "\nobservation: " << m.progress().observation_note() << "\n";
    }
    if (m.has_cutover_after()) out_ << "cut over after " << TimeText(m.cutover_after()) << "\n";
    if (m.has_disruptions()) {
      const pb::MigrationDisruptions& d = m.disruptions();
      out_ << absl::StrFormat(
          "clients: affine clients %d, %d of them disrupted (%d other clients): %d held, %d "
          "forwarded, %d failed, %d connections closed, %d stale reads%s\n",
          d.affine_clients(), d.disrupted_affine_clients(), d.disrupted_other_clients(),
          d.held_requests(), d.forwarded_requests(), d.failed_requests(), d.closed_connections(),
          d.stale_reads(), d.truncated() ? " (at least: an instance lost records)" : "");
      if (!d.error().empty()) out_ << "  not asked: " << d.error() << "\n";
    }
    return kExitOk;
  }

  // For the person on call: where the migration is, who drives it, what it last ran into, and
  // every state change with its reason.
  int WhyMigration(const std::string& id) {
    pb::GetMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->GetMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(m), kExitOk;
    using google::protobuf::util::TimeUtil;
    const pb::MigrationProgress& p = m.progress();
    out_ << "migration " << m.id() << " (" << m.kind() << ", reservation " << m.reservation_id()
         << ") is " << m.state() << (m.cancel_requested() ? ", cancellation requested" : "")
         << "\n";
    if (m.state() == "DONE" || m.state() == "ROLLED_BACK" || m.state() == "FAILED") {
      out_ << "driven by: nobody now (finished)\n";
    } else if (m.lease_owner().empty()) {
      out_ << "driven by: nobody now (any server claims it at its next pass)\n";
    } else {
      const absl::Duration left =
          absl::FromUnixSeconds(m.lease_expires_at().seconds()) - absl::Now();
      out_ << "driven by: " << m.lease_owner() << ", lease "
           << (left > absl::ZeroDuration()
                   ? absl::StrCat("held for ",
                                  absl::FormatDuration(absl::Trunc(left, absl::Seconds(1))),
                                  " more")
                   : std::string("expired: another server takes it over"))
           << "\n";
    }
    if (p.attempts() > 0) {
      out_ << "retrying: attempt " << p.attempts() << " failed with " << p.last_error()
           << "; next at " << TimeUtil::ToString(p.next_attempt_at()) << "\n";
    }
    if (!m.error().empty()) out_ << "error: " << m.error() << "\n";
    if (p.has_freeze_started_at() && !p.has_switched_at()) {
      out_ << "the source's writes are held since " << TimeUtil::ToString(p.freeze_started_at())
           << (p.has_switch_requested_at() ? " (the traffic switch was asked for)" : "") << "\n";
    }
    Table events({"at", "from", "to", "why"});
    for (const auto& e : m.events()) {
      events.AddRow({TimeUtil::ToString(e.at()), e.from_state(), e.to_state(), e.detail_json()});
    }
    out_ << "\n" << events.Render();
    return kExitOk;
  }

  int CancelMigration(const std::string& id) {
    pb::CancelMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->CancelMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    out_ << "cancelling migration " << id << " (" << m.state() << "): it rolls back\n";
    return kExitOk;
  }

  // Follows the migration to its end, one line per change (JSON: one object per line).
  int WatchMigration(const std::string& id) {
    grpc::ClientContext context;  // no deadline: a migration takes as long as it takes
    Authorize(&context);
    pb::WatchMigrationRequest request;
    request.set_id(id);
    auto stream = migrations_->WatchMigration(&context, request);
    pb::Migration m;
    std::string state, progress;
    int events_shown = 0;
    auto clock = [](const google::protobuf::Timestamp& t) {
      return absl::FormatTime("%H:%M:%E3S",
                              absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                              absl::LocalTimeZone());
    };
    while (stream->Read(&m)) {
      state = m.state();
      if (options_.json) {
        std::string json;
        (void)google::protobuf::util::MessageToJsonString(m, &json);
        out_ << json << "\n";
        out_.flush();
        continue;
      }
      // Every state change (from the events, so none is missed between two updates), then the
      // progress within the state when it moved.
      for (; events_shown < m.events_size(); ++events_shown) {
        const pb::MigrationEvent& e = m.events(events_shown);
        out_ << clock(e.at()) << "  " << (e.from_state().empty() ? "" : e.from_state() + " -> ")
             << e.to_state() << "  " << e.detail_json() << "\n";
      }
      const std::string line = MigrationProgressLine(m);
      if (line != progress) {
        out_ << clock(m.updated_at()) << "  " << line << "\n";
        progress = line;
      }
      out_.flush();
    }
    grpc::Status status = stream->Finish();
    if (!status.ok()) return Fail(status);
    return state == "DONE" ? kExitOk : kExitRpcError;
  }
};

}  // namespace

void AddMigrationCommands(CommandTable* table) {
  table->push_back({{"migrate"},
                    {"RESERVATION_ID"},
                    "--target=LOCATION [--capacity_type=spot|on_demand] [--reason=TEXT] "
                    "[--migration_kind=emergency [--force]] [--request_id=ID] [--watch]",
                    "move the primary, with its data, to LOCATION (emergency: promote the shadow "
                    "as it is); --watch follows it",
                    CallWith<MigrationCommands, &MigrationCommands::Migrate>});
  table->push_back({{"migrations", "list"},
                    {},
                    "[--resource=ID] [--state=S]",
                    "migrations, newest first",
                    Call<MigrationCommands, &MigrationCommands::ListMigrations>});
  table->push_back({{"migrations", "get"},
                    {"ID"},
                    "",
                    "a migration with its state changes and sync rounds",
                    CallWith<MigrationCommands, &MigrationCommands::GetMigration>});
  table->push_back({{"migrations", "cancel"},
                    {"ID"},
                    "",
                    "roll it back (until its traffic switch)",
                    CallWith<MigrationCommands, &MigrationCommands::CancelMigration>});
  table->push_back(
      {{"migrations", "watch"},
       {"ID"},
       "",
       "follow a migration, one line per change, until it ends (exit 0 when it ends DONE)",
       CallWith<MigrationCommands, &MigrationCommands::WatchMigration>});
  table->push_back({{"migrations", "why"},
                    {"ID"},
                    "",
                    "for the person on call: state, owner and lease, retries, held writes, and "
                    "every state change with its reason",
                    CallWith<MigrationCommands, &MigrationCommands::WhyMigration>});
}

}  // namespace shadowplane::cli
