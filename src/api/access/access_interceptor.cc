#include "api/access/access_interceptor.h"

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "api/access/access_rules.h"
#include "common/call_gate.h"
#include "common/log.h"

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
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      caller_ = control_->Authenticate(*methods->GetRecvInitialMetadata());
      Record(Decide(method_, caller_, nullptr));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        verdict_.ok() && !checked_request_) {
      checked_request_ = true;  // the first message decides (a stream's later ones do not)
      if (const void* message = methods->GetRecvMessage(); message != nullptr) {
        // Every request of our services is a generated protobuf message (Message is its first
        // and only base).
        Record(Decide(method_, caller_, static_cast<const google::protobuf::Message*>(message)));
      }
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

  ServerRpcInfo* const info_;
  AccessControl* const control_;
  const std::string method_;
  std::optional<Caller> caller_;
  absl::Status verdict_;
  bool checked_request_ = false;
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

AccessControl::AccessControl(std::unique_ptr<TokenStore> tokens, prometheus::Registry* registry)
    : tokens_(std::move(tokens)) {
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
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
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
