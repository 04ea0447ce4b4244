// Every method the shadowplane server serves, read from the .proto files of the source tree (so a
// method added to a .proto file appears here without a test change): all of
// proto/shadowplane/v1, the agents' write lease service, health checks and reflection.
#ifndef SHADOWPLANE_TESTS_SUPPORT_SERVED_METHODS_H_
#define SHADOWPLANE_TESTS_SUPPORT_SERVED_METHODS_H_

#include <set>
#include <string>

namespace shadowplane::testing {

// "/package.Service/Method", from the .proto files under `source_dir`/proto.
std::set<std::string> ServedMethods(const std::string& source_dir);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_SERVED_METHODS_H_
