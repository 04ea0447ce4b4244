// Whether an address stays on this machine: services that must not be reached from elsewhere
// (an unauthenticated listener, the load generator's targets) check it.
#ifndef SHADOWPLANE_COMMON_LOOPBACK_H_
#define SHADOWPLANE_COMMON_LOOPBACK_H_

#include <string>

namespace shadowplane {

// 127.0.0.0/8, ::1 (bracketed or not) or "localhost".
bool IsLoopbackHost(const std::string& host);
// The host of `host_port` ("127.0.0.1:50051", "[::1]:50051") is loopback; "0.0.0.0:50051" and
// "[::]:50051" (every interface) are not.
bool IsLoopbackListen(const std::string& host_port);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_LOOPBACK_H_
