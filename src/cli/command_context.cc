#include "cli/command_context.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shadowplane::cli {

CommandContext::CommandContext(const ShadowctlOptions& options, std::ostream& out,
                               std::ostream& err)
    : options_(options), out_(out), err_(err) {
  const std::shared_ptr<const TransportSecurity> transport =
      options.transport != nullptr ? options.transport : TransportSecurity::Insecure();
  auto channel = transport->Channel(options.server, options.tls_server_name);
  locations_ = pb::LocationService::NewStub(channel);
  reservations_ = pb::ReservationService::NewStub(channel);
  sync_ = pb::SyncService::NewStub(channel);
  telemetry_ = pb::TelemetryService::NewStub(channel);
  forecasts_ = pb::ForecastService::NewStub(channel);
  events_ = pb::EventService::NewStub(channel);
  audit_ = pb::AuditService::NewStub(channel);
  migrations_ = pb::MigrationService::NewStub(channel);
  planner_ = pb::PlannerService::NewStub(channel);
  server_ = pb::ServerService::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> CommandContext::Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  Authorize(context.get());
  return context;
}

void CommandContext::Authorize(grpc::ClientContext* context) const {
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

int CommandContext::Fail(const grpc::Status& status) {
  // gRPC's codes are Abseil's, number for number.
  err_ << "shadowctl: "
       << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
       << status.error_message() << "\n";
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    const bool tls = options_.transport != nullptr && options_.transport->tls();
    err_ << (tls ? "shadowctl: spoke TLS: check --ca (the CA that signed the server's "
                   "certificate) and --tls_server_name (a name in it), or --insecure for a "
                   "plaintext server\n"
                 : "shadowctl: spoke plaintext (--insecure): a TLS server needs --ca instead\n");
  }
  return kExitRpcError;
}

grpc::Status CommandContext::ListAllMigrations(const pb::ListMigrationsRequest& request,
                                               pb::ListMigrationsResponse* all) {
  return ReadAllPages(request, all, [&](const auto& page_request, auto* page) {
    return migrations_->ListMigrations(Context().get(), page_request, page);
  });
}

void CommandContext::Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  out_ << json;
}

std::string CommandContext::Renamed(const char* name, const std::string& value,
                                    const char* old_name, const std::string& old_value) {
  if (!value.empty() || old_value.empty()) return value;
  err_ << "shadowctl: --" << old_name << " here is deprecated and goes in the next release; use --"
       << name << "\n";
  return old_value;
}

bool CommandContext::ParseTimeFlag(const char* flag, const std::string& text,
                                   google::protobuf::Timestamp* out) {
  if (text.empty()) return true;  // the server names the missing field
  if (google::protobuf::util::TimeUtil::FromString(text, out)) return true;
  err_ << "shadowctl: --" << flag << " takes an RFC 3339 time (2026-11-29T18:00:00Z), got \""
       << text << "\"\n";
  return false;
}

}  // namespace shadowplane::cli
