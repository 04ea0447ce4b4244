#include "api/access/access_interceptor.h"

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "api/access/access_rules.h"
#include "common/call_gate.h"
#include "common/log.h"
#include "common/transport_security.h"

namespace shadowplane::api::access {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

class AccessInterceptor final : public grpc::experimental::Interceptor {
 public:
  AccessInterceptor(ServerRpcInfo* info, AccessControl* control)
      : info_(info), control_(control), method_(info->method() == nullptr ? "" : info->method()) {}
  ~AccessInterceptor() override { CallGate::Forget(info_->server_context()); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA) &&
        control_->authenticating()) {
      const std::shared_ptr<const grpc::AuthContext> peer = info_->server_context()->auth_context();
      caller_ = control_->Authenticate(*methods->GetRecvInitialMetadata(), peer.get());
      if (caller_.has_value()) {
        CallGate::RecordCaller(
            info_->server_context(),
            {caller_->name, caller_->team, caller_->role == Role::kAgent ? caller_->location : "",
             caller_->role == Role::kAdmin});
      }
      Record(Decide(method_, caller_, nullptr));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        !read_request_) {
      read_request_ = true;  // the first message decides (a stream's later ones do not)
      if (const void* message = methods->GetRecvMessage(); message != nullptr) {
        // Every request of our services is a generated protobuf message (Message is its first
        // and only base).
        const auto* request = static_cast<const google::protobuf::Message*>(message);
        if (rule_ != nullptr && rule_->audited) NoteTargets(*request);
        if (control_->authenticating() && verdict_.ok()) {
          Record(Decide(method_, caller_, request));
        }
        if (verdict_.ok() && rule_ != nullptr && rule_->audited && control_->audit() != nullptr) {
          WriteAhead();
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        rule_ != nullptr && rule_->audited && control_->audit() != nullptr) {
      Audit(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void Record(absl::Status verdict) {
    if (!verdict.ok() && verdict_.ok()) {
      control_->CountDenied(absl::IsUnauthenticated(verdict));
      LOG_EVENT(kWarning, "call refused")
          .Field("method", method_)
          .Field("caller", caller_.has_value() ? caller_->name : std::string("-"))
          .Field("peer", info_->server_context()->peer())
          .Field("error", verdict);
    }
    verdict_ = verdict;
    CallGate::Record(info_->server_context(), std::move(verdict));
  }

  // The ids a request names, for the audit trail: its own fields of those names, and those of
  // the messages it holds ("region.name" of an UpsertRegion).
  void NoteTargets(const google::protobuf::Message& request) {
    NoteTargetsOf(request, "");
    request_id_ = TextField(request, "request_id");
    const google::protobuf::Descriptor* d = request.GetDescriptor();
    const google::protobuf::Reflection* r = request.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = d->field(i);
      if (f->is_repeated() || f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
          !r->HasField(request, f)) {
        continue;
      }
      NoteTargetsOf(r->GetMessage(request, f), f->name() + ".");
    }
  }

  void NoteTargetsOf(const google::protobuf::Message& m, const std::string& prefix) {
    static const char* const kTargets[] = {"id",           "reservation_id", "resource_id",
                                           "name",         "location",       "target_location",
                                           "migration_id", "decision_id",    "event_id"};
    for (const char* name : kTargets) {
      if (std::string value = TextField(m, name); !value.empty()) {
        targets_[prefix + name] = std::move(value);
      }
    }
  }

  // A singular string field's value, at most 128 bytes; empty when there is no such field.
  static std::string TextField(const google::protobuf::Message& m, const char* name) {
    const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
    if (f == nullptr || f->is_repeated() ||
        f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
      return "";
    }
    std::string value = m.GetReflection()->GetString(m, f);
    if (value.size() > 128) value.resize(128);
    return value;
  }

  // The row of who asked for what, as the call has it now.
  store::AuditRecord Row() const {
    store::AuditRecord r;
    r.at = absl::Now();
    r.caller = caller_.has_value() ? caller_->name : "anonymous";
    r.role = caller_.has_value() ? std::string(RoleName(caller_->role)) : "";
    r.method = method_;
    r.targets = targets_;
    r.request_id = request_id_;
    return r;
  }

  // A change the access check let through: its row is written before the handler makes it (run
  // by the handler's entry point, on its worker: common/call_gate.h), so that no change is made
  // without one; Audit() completes it with the outcome.
  void WriteAhead() {
    CallGate::RecordIntent(
        info_->server_context(),
        [audit = control_->audit(), row = Row(), id = written_ahead_]() -> absl::Status {
          absl::StatusOr<int64_t> written = audit->Begin(row);
          if (!written.ok()) return written.status();
          id->store(*written);
          return absl::OkStatus();
        });
  }

  void Audit(const grpc::Status& status) {
    store::AuditRecord r = Row();
    r.id = written_ahead_->load();  // 0: none was (refused before, or a stream): a new row
    r.code = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
    r.message = status.error_message().substr(0, 512);
    control_->audit()->Record(std::move(r));
  }

  ServerRpcInfo* const info_;
  AccessControl* const control_;
  const std::string method_;
  const AccessRule* const rule_ = RuleFor(method_);
  std::optional<Caller> caller_;
  absl::Status verdict_;
  bool read_request_ = false;
  std::map<std::string, std::string> targets_;
  std::string request_id_;
  // The id of the row written ahead; shared with the intent, which may outlive this (never run).
  const std::shared_ptr<std::atomic<int64_t>> written_ahead_ =
      std::make_shared<std::atomic<int64_t>>(0);
};

class AccessInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessInterceptorFactory(AccessControl* control) : control_(control) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new AccessInterceptor(info, control_);
  }

 private:
  AccessControl* const control_;
};

}  // namespace

AccessControl::AccessControl(std::shared_ptr<TokenStore> tokens, AuditTrail* audit,
                             prometheus::Registry* registry)
    : tokens_(std::move(tokens)), audit_(audit) {
  if (tokens_ == nullptr) return;
  CallGate::Arm();
  if (registry == nullptr) return;
  auto& family = prometheus::BuildCounter()
                     .Name("shadowplane_access_denied_total")
                     .Help(
                         "Calls refused by the access check, by code (unauthenticated: no or an "
                         "unknown token; permission_denied: the caller's role is not enough).")
                     .Register(*registry);
  unauthenticated_ = &family.Add({{"code", "unauthenticated"}});
  permission_denied_ = &family.Add({{"code", "permission_denied"}});
}

std::optional<Caller> AccessControl::Authenticate(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    const grpc::AuthContext* peer) {
  if (tokens_ == nullptr) return std::nullopt;
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    const std::vector<std::string> names =
        peer != nullptr ? PeerIdentities(*peer) : std::vector<std::string>();
    for (const std::string& name : names) {
      if (std::optional<std::string> location = AgentLocationOf(name)) {
        return Caller{absl::StrCat("agent:", *location), Role::kAgent, "", *location};
      }
    }
    return names.empty() ? std::nullopt : tokens_->AuthenticateCertificate(names);
  }
  absl::string_view value(it->second.data(), it->second.size());
  // "Bearer" is case-insensitive (RFC 6750 follows RFC 7235's auth-scheme).
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  return tokens_->Authenticate(absl::StripAsciiWhitespace(value.substr(7)));
}

void AccessControl::CountDenied(bool unauthenticated) {
  prometheus::Counter* c = unauthenticated ? unauthenticated_ : permission_denied_;
  if (c != nullptr) c->Increment();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessInterceptor(
    AccessControl* control) {
  return std::make_unique<AccessInterceptorFactory>(control);
}

}  // namespace shadowplane::api::access
