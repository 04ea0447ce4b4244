// The tokens file: parsed with every error naming the entry and field, refused when others may
// read it, re-read when it changes (a token added works, a revoked one stops), and a broken
// change keeps the tokens in force.
#include "api/access/token_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/child_process.h"

namespace shadowplane::api::access {
namespace {

std::string Entry(const std::string& name, const std::string& role, const std::string& token,
                  const std::string& extra = "") {
  return absl::StrCat("  - {name: \"", name, "\", role: ", role, ", sha256: ", TokenHash(token),
                      extra, "}\n");
}

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-tokens");
    path_ = dir_ + "/tokens.yaml";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Replaces the file (a new inode, as editors and `mv` do), mode 0600.
  void Write(const std::string& text, mode_t mode = 0600) {
    const std::string tmp = path_ + ".new";
    std::ofstream(tmp) << text;
    chmod(tmp.c_str(), mode);
    std::filesystem::rename(tmp, path_);
  }
  std::string dir_, path_;
};

TEST(TokenHashTest, IsHexSha256) {
  EXPECT_EQ(TokenHash("test"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST_F(TokenStoreTest, AuthenticatesKnownTokensAndFollowsChangesToTheFile) {
  Write("tokens:\n" + Entry("alice", "admin", "secret-a", ", team: platform") +
        Entry("agent:fra-1", "agent", "secret-f", ", location: fra-1"));
  absl::StatusOr<std::unique_ptr<TokenStore>> store = TokenStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  std::optional<Caller> alice = (*store)->Authenticate("secret-a");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kAdmin);
  EXPECT_EQ(alice->team, "platform");
  std::optional<Caller> agent = (*store)->Authenticate("secret-f");
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->location, "fra-1");
  EXPECT_FALSE((*store)->Authenticate("secret-b").has_value());
  EXPECT_FALSE((*store)->Authenticate("").has_value());

  // Alice revoked, bob added: in force within the re-read interval, without a restart.
  Write("tokens:\n" + Entry("bob", "viewer", "secret-b"));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((*store)->Authenticate("secret-a").has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_FALSE((*store)->Authenticate("secret-a").has_value());
  EXPECT_TRUE((*store)->Authenticate("secret-b").has_value());

  // A broken change keeps bob.
  Write("tokens:\n  - {name: carol, role: superuser, sha256: 00}\n");
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_TRUE((*store)->Authenticate("secret-b").has_value());
  EXPECT_EQ((*store)->size(), 1u);
}

TEST_F(TokenStoreTest, AFileOthersMayReadIsRefused) {
  Write("tokens:\n" + Entry("alice", "admin", "secret-a"), 0644);
  absl::StatusOr<std::unique_ptr<TokenStore>> store = TokenStore::Open(path_);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "chmod o-rw")) << store.status();
  EXPECT_EQ(TokenStore::Open(dir_ + "/missing.yaml").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TokenStoreTest, NamesCallersByTheirCertificates) {
  Write("tokens:\n" + Entry("alice", "admin", "secret-a") +
        "  - {name: bob, role: operator, team: web, certificate: bob.example}\n");
  absl::StatusOr<std::unique_ptr<TokenStore>> store = TokenStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->size(), 2u);
  // The first of the certificate's names that the file knows.
  std::optional<Caller> bob = (*store)->AuthenticateCertificate({"localhost", "bob.example"});
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->name, "bob");
  EXPECT_EQ(bob->role, Role::kOperator);
  EXPECT_EQ(bob->team, "web");
  // A token's entry is no certificate's, and a certificate's name is no token.
  EXPECT_FALSE((*store)->AuthenticateCertificate({"alice"}).has_value());
  EXPECT_FALSE((*store)->Authenticate("bob.example").has_value());
  EXPECT_FALSE((*store)->AuthenticateCertificate({}).has_value());
}

TEST(ParseTokensTest, EveryErrorNamesTheEntryAndField) {
  const std::string hash = TokenHash("x");
  struct Case {
    std::string yaml, field;
  };
  for (const Case& c : std::vector<Case>{
           {"nope: []", "tokens"},
           {"tokens: [{name: \"\", role: admin, sha256: " + hash + "}]", "tokens[0].name"},
           {"tokens: [{name: a, role: root, sha256: " + hash + "}]", "tokens[0].role"},
           {"tokens: [{name: a, role: admin, sha256: abc}]", "tokens[0].sha256"},
           {"tokens: [{name: a, role: admin, team: Big Team, sha256: " + hash + "}]",
            "tokens[0].team"},
           {"tokens: [{name: a, role: agent, sha256: " + hash + "}]", "tokens[0].location"},
           {"tokens: [{name: a, role: viewer, location: fra-1, sha256: " + hash + "}]",
            "tokens[0].location"},
           {"tokens: [{name: a, role: admin, sha256: " + hash + "}, {name: b, role: viewer, " +
                "sha256: " + hash + "}]",
            "tokens[1].sha256"},
           {"tokens: [{name: \"a\\tb\", role: admin, sha256: " + hash + "}]", "tokens[0].name"},
           {"tokens: [{name: a, role: admin, certificate: alice, sha256: " + hash + "}]",
            "tokens[0] has both"},
           {"tokens: [{name: a, role: admin, certificate: \"bad name\"}]", "tokens[0].certificate"},
           {"tokens: [{name: a, role: admin, certificate: -x.example}]", "tokens[0].certificate"},
           {"tokens: [{name: a, role: admin, certificate: control-plane.shadowplane}]",
            "tokens[0].certificate"},
           {"tokens: [{name: a, role: admin, certificate: fra-1.agent.shadowplane}]",
            "tokens[0].certificate"},
           {"tokens: [{name: a, role: agent, location: fra-1, certificate: fra-1}]",
            "tokens[0].certificate"},
           {"tokens: [{name: a, role: admin, certificate: alice}, {name: b, role: viewer, "
            "certificate: alice}]",
            "tokens[1].certificate"},
           {"tokens: [{name: a, role: admin}]", "tokens[0].sha256"},
           {"tokens: []\nteams: {a: 1}", "teams"},
           {"tokens: []\nteams: [{name: Web}]", "teams[0].name"},
           {"tokens: []\nteams: [{name: web, max_millicores: 0}]", "teams[0].max_millicores"},
           {"tokens: []\nteams: [{name: web, max_memory_mib: -5}]", "teams[0].max_memory_mib"},
           {"tokens: []\nteams: [{name: web, max_memory_mib: 1.5}]", "teams[0].max_memory_mib"},
           {"tokens: []\nteams: [{name: web, max_millicores: 99999999999999999999}]",
            "teams[0].max_millicores"},
           {"tokens: []\nteams: [{name: web}, {name: web}]", "teams[1].name"},
           {"tokens: [", "YAML"}}) {
    absl::StatusOr<TokenFile> parsed = ParseTokens(c.yaml);
    ASSERT_FALSE(parsed.ok()) << c.yaml;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), c.field))
        << c.yaml << ": " << parsed.status();
  }
}

TEST(ParseTokensTest, TeamsSetQuotasWhereALimitLeftOutIsNone) {
  absl::StatusOr<TokenFile> parsed = ParseTokens(
      "tokens: []\n"
      "teams:\n"
      "  - {name: web, max_millicores: 4000, max_memory_mib: 8192}\n"
      "  - {name: batch, max_memory_mib: 1024}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->quotas.size(), 2u);
  EXPECT_EQ(parsed->quotas.at("web").millicores, 4000);
  EXPECT_EQ(parsed->quotas.at("web").memory_mib, 8192);
  EXPECT_FALSE(parsed->quotas.at("batch").millicores.has_value());
  EXPECT_EQ(parsed->quotas.at("batch").memory_mib, 1024);
  EXPECT_TRUE(ParseTokens("tokens: []").ok()) << "teams are optional";
}

}  // namespace
}  // namespace shadowplane::api::access
