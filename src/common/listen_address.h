// Explains why a listening address could not be bound, by trying it ourselves: gRPC and CivetWeb
// only say that they failed, and people need to know whether the port is taken or the address
// is wrong.
#ifndef SHADOWPLANE_COMMON_LISTEN_ADDRESS_H_
#define SHADOWPLANE_COMMON_LISTEN_ADDRESS_H_

#include <string>

namespace shadowplane {

// E.g. "address already in use (another process listens on 127.0.0.1:50051)".
std::string DiagnoseBindFailure(const std::string& host_port);

// Whether `host_port` can be bound now (a probe: the socket is closed again); `why` when not.
bool CanBind(const std::string& host_port, std::string* why);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_LISTEN_ADDRESS_H_
