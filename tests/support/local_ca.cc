#include "support/local_ca.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "support/child_process.h"

namespace shadowplane::testing {

absl::Status MakeLocalCa(const std::string& dir, const std::vector<std::string>& agents,
                         const std::vector<std::string>& clients, int valid_days) {
  std::vector<std::string> argv = {std::string(SHADOWPLANE_SOURCE_DIR) + "/deploy/local-ca.sh",
                                   dir};
  for (const std::string& a : agents) argv.insert(argv.end(), {"--agent", a});
  for (const std::string& c : clients) argv.insert(argv.end(), {"--client", c});
  const RunResult result = RunToCompletion(argv, {absl::StrCat("VALID_DAYS=", valid_days)});
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat("deploy/local-ca.sh failed: ", result.output));
  }
  return absl::OkStatus();
}

std::vector<std::string> ServerTlsFlags(const std::string& dir) {
  return {"--tls_cert=" + dir + "/server.pem", "--tls_key=" + dir + "/server.key",
          "--tls_ca=" + dir + "/ca.pem"};
}

std::vector<std::string> AgentTlsFlags(const std::string& dir, const std::string& location) {
  return {absl::StrCat("--tls_cert=", dir, "/agent-", location, ".pem"),
          absl::StrCat("--tls_key=", dir, "/agent-", location, ".key"),
          "--tls_ca=" + dir + "/ca.pem"};
}

std::string TokenSha256(const std::string& token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

bool ChoosesTransport(const std::vector<std::string>& argv) {
  for (const std::string& arg : argv) {
    if (absl::StartsWith(arg, "--tls_") || absl::StartsWith(arg, "--insecure")) return true;
  }
  return false;
}

}  // namespace shadowplane::testing
