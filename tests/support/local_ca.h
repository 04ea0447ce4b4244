// Credentials for tests: a token's hash for a tokens file, and certificates for tests that run
// with TLS: deploy/local-ca.sh (the script deploy/run.sh uses)
// makes a CA and certificates under a test's directory, and these helpers give the flags that
// use them. Processes started without them run --insecure (loopback plaintext).
#ifndef SHADOWPLANE_TESTS_SUPPORT_LOCAL_CA_H_
#define SHADOWPLANE_TESTS_SUPPORT_LOCAL_CA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shadowplane::testing {

// Runs deploy/local-ca.sh DIR with an agent certificate per location and a client one per name.
// Certificates made now are valid for `valid_days` (0: they expire the second they are made).
absl::Status MakeLocalCa(const std::string& dir, const std::vector<std::string>& agents,
                         const std::vector<std::string>& clients = {}, int valid_days = 825);

std::vector<std::string> ServerTlsFlags(const std::string& dir);
std::vector<std::string> AgentTlsFlags(const std::string& dir, const std::string& location);

// What a tokens file holds for a bearer token: its SHA-256, lowercase hex.
std::string TokenSha256(const std::string& token);

// Whether a command line already chooses TLS (a --tls_ flag) or plaintext (--insecure).
bool ChoosesTransport(const std::vector<std::string>& argv);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_LOCAL_CA_H_
