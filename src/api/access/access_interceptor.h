// The server's access check: a gRPC server interceptor that authenticates each call's caller
// (a bearer token in `authorization`, api/access/token_store.h, or a client certificate,
// common/transport_security.h) and decides from the rule table
// (api/access/access_rules.h) whether the call may go on: once the call's metadata has arrived,
// and again once its request has, for rules that read it. The verdict goes to the call gate
// (common/call_gate.h), where the handler's entry point finds it: a refused call ends with
// UNAUTHENTICATED or PERMISSION_DENIED and its handler body never runs. Without a token store
// nobody is authenticated and every call goes on (as "anonymous").
//
// When the call has ended, an audited method's call (api/access/access_rules.h) goes to the audit
// trail: when, who, the ids its request named, its request id, its status.
//
// Metrics: shadowplane_access_denied_total{code} (unauthenticated, permission_denied). Each
// refusal is logged with the method, the caller's name (never the token) and the peer.
#ifndef SHADOWPLANE_API_ACCESS_ACCESS_INTERCEPTOR_H_
#define SHADOWPLANE_API_ACCESS_ACCESS_INTERCEPTOR_H_

#include <grpcpp/security/auth_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <optional>

#include "api/access/audit_trail.h"
#include "api/access/caller.h"
#include "api/access/token_store.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace shadowplane::api::access {

class AccessControl {
 public:
  // With `tokens`, arms the call gate: from now on every call of the process's servers needs a
  // verdict. `audit` may be null (no audit trail).
  AccessControl(std::shared_ptr<TokenStore> tokens, AuditTrail* audit,
                prometheus::Registry* registry);

  bool authenticating() const { return tokens_ != nullptr; }
  AuditTrail* audit() const { return audit_; }

  // The caller named by the `authorization: Bearer <token>` entry of `metadata`, else by the
  // peer's verified TLS certificate: `agent:<location>` for an agent's, the tokens file's entry
  // for a caller's. nullopt without either, or for a token or certificate the store does not know.
  std::optional<Caller> Authenticate(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
      const grpc::AuthContext* peer);
  void CountDenied(bool unauthenticated);

 private:
  const std::shared_ptr<TokenStore> tokens_;
  AuditTrail* const audit_;
  prometheus::Counter* unauthenticated_ = nullptr;
  prometheus::Counter* permission_denied_ = nullptr;
};

// The factory keeps `control`, which must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessInterceptor(
    AccessControl* control);

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_ACCESS_INTERCEPTOR_H_
