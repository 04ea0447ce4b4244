#include "api/audit_service.h"

#include "absl/strings/numbers.h"
#include "common/grpc_unary.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* AuditService::ListAuditEvents(grpc::CallbackServerContext* context,
                                                        const pb::ListAuditEventsRequest* request,
                                                        pb::ListAuditEventsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    store::AuditFilter filter;
    RETURN_IF_ERROR(PageSize(request->page_size(), &filter.limit));
    filter.caller = request->caller();
    filter.method = request->method();
    filter.code = request->code();
    if (request->has_from()) filter.from = FromProtoTime(request->from());
    if (request->has_to()) filter.to = FromProtoTime(request->to());
    if (filter.from.has_value() && filter.to.has_value() && *filter.to <= *filter.from) {
      return absl::InvalidArgumentError("to must be after from");
    }
    if (!request->page_token().empty()) {
      int64_t before = 0;
      if (!absl::SimpleAtoi(request->page_token(), &before) || before <= 0) {
        return absl::InvalidArgumentError("page_token is not one this service gave");
      }
      filter.before_id = before;
    }
    ASSIGN_OR_RETURN(const std::vector<store::AuditRecord> rows, repository_->List(filter));
    for (const store::AuditRecord& r : rows) {
      pb::AuditEvent* e = response->add_events();
      e->set_id(r.id);
      *e->mutable_at() = ToProtoTime(r.at);
      e->set_caller(r.caller);
      e->set_role(r.role);
      e->set_method(r.method);
      e->mutable_targets()->insert(r.targets.begin(), r.targets.end());
      e->set_request_id(r.request_id);
      e->set_code(r.code);
      e->set_message(r.message);
    }
    if (static_cast<int>(rows.size()) == filter.limit) {
      response->set_next_page_token(absl::StrCat(rows.back().id));
    }
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
