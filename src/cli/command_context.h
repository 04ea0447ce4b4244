// What every shadowctl command works with: the options, the output streams, one stub per public
// service (over one channel), and the helpers commands share (call deadlines, error reporting,
// paging, JSON). A command group (src/cli/*_commands.cc) derives from it and registers its commands
// in the table the dispatcher and the usage text are made from (src/cli/command.h).
#ifndef SHADOWPLANE_CLI_COMMAND_CONTEXT_H_
#define SHADOWPLANE_CLI_COMMAND_CONTEXT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "cli/shadowctl.h"
#include "shadowplane/v1/audit.grpc.pb.h"
#include "shadowplane/v1/events.grpc.pb.h"
#include "shadowplane/v1/forecast.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/planner.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/server.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane::cli {

namespace pb = shadowplane::v1;

class CommandContext {
 public:
  CommandContext(const ShadowctlOptions& options, std::ostream& out, std::ostream& err);

 protected:
  // A call's context: a 60 s deadline, the caller's token (Authorize).
  std::unique_ptr<grpc::ClientContext> Context();
  // Adds the caller's bearer token, if any, to a context made elsewhere.
  void Authorize(grpc::ClientContext* context) const;
  // Prints the status (its Abseil name and message) and returns kExitRpcError.
  int Fail(const grpc::Status& status);
  // Every page of a list: `rpc(request, page)` page after page, the pages merged into `all` (their
  // repeated fields appended).
  template <typename Request, typename Response, typename Rpc>
  static grpc::Status ReadAllPages(Request request, Response* all, Rpc rpc) {
    do {
      Response page;
      grpc::Status status = rpc(request, &page);
      if (!status.ok()) return status;
      request.set_page_token(page.next_page_token());
      all->MergeFrom(page);
    } while (!request.page_token().empty());
    all->clear_next_page_token();
    return grpc::Status::OK;
  }
  // Every migration matching `request`'s filters, page after page.
  grpc::Status ListAllMigrations(const pb::ListMigrationsRequest& request,
                                 pb::ListMigrationsResponse* all);
  void Json(const google::protobuf::Message& message);
  // An RFC 3339 flag value into `out`; false (after saying so) when it does not parse.
  bool ParseTimeFlag(const char* flag, const std::string& text, google::protobuf::Timestamp* out);
  // A flag renamed for one meaning: `value` of --`name`, else the old spelling's `old_value`
  // (with a deprecation message on stderr; the old spelling goes in the next release).
  std::string Renamed(const char* name, const std::string& value, const char* old_name,
                      const std::string& old_value);

  const ShadowctlOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<pb::LocationService::Stub> locations_;
  std::shared_ptr<pb::ReservationService::Stub> reservations_;
  std::shared_ptr<pb::SyncService::Stub> sync_;
  std::shared_ptr<pb::TelemetryService::Stub> telemetry_;
  std::shared_ptr<pb::ForecastService::Stub> forecasts_;
  std::shared_ptr<pb::EventService::Stub> events_;
  std::shared_ptr<pb::AuditService::Stub> audit_;
  std::shared_ptr<pb::MigrationService::Stub> migrations_;
  std::shared_ptr<pb::PlannerService::Stub> planner_;
  std::shared_ptr<pb::ServerService::Stub> server_;
};

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_COMMAND_CONTEXT_H_
