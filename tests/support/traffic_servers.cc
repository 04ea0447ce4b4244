#include "support/traffic_servers.h"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace shadowplane::testing {

namespace {

absl::Status Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string RandomSecret() {
  std::random_device device;
  std::string bytes(32, '\0');
  for (char& c : bytes) c = static_cast<char>(device() & 0xff);
  return absl::Base64Escape(bytes);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KnotServer>> KnotServer::Start(const std::string& zone,
                                                              const std::string& key_name) {
  auto server = std::unique_ptr<KnotServer>(new KnotServer());
  server->dir_ = MakeTempDir("shadowplane-knot");
  server->port_ = FreePort();
  server->secret_ = RandomSecret();
  const std::string& dir = server->dir_;
  for (const char* sub : {"/run", "/db", "/zones"}) std::filesystem::create_directories(dir + sub);
  const std::string origin = absl::EndsWith(zone, ".") ? zone : zone + ".";
  if (absl::Status s = Write(
          absl::StrCat(dir, "/zones/", origin, "zone"),
          absl::StrCat("$ORIGIN ", origin, "\n$TTL 30\n@ SOA ns.", origin, " hostmaster.", origin,
                       " 1 3600 600 86400 30\n@ NS ns.", origin, "\nns A 127.0.0.1\n"));
      !s.ok()) {
    return s;
  }
  // As root, knotd must run as a user that owns its directories (it drops every capability).
  const bool root = geteuid() == 0;
  const std::string config = absl::StrCat(
      "server:\n  rundir: ", dir, "/run\n  pidfile: ", dir, "/run/knot.pid\n  listen: 127.0.0.1@",
      server->port_, "\n", root ? "  user: knot:knot\n" : "",
      "log:\n  - target: stderr\n    any: info\n", "database:\n  storage: ", dir, "/db\n",
      "key:\n  - id: ", key_name, "\n    algorithm: hmac-sha256\n    secret: ", server->secret_,
      "\n", "acl:\n  - id: update\n    key: ", key_name, "\n    action: update\n",
      "template:\n  - id: default\n    storage: ", dir,
      "/zones\n    zonefile-sync: 0\n    journal-content: changes\n", "zone:\n  - domain: ", origin,
      "\n    file: ", origin, "zone\n    acl: update\n");
  if (absl::Status s = Write(dir + "/knot.conf", config); !s.ok()) return s;
  if (root) {
    const passwd* knot = getpwnam("knot");
    if (knot == nullptr) return absl::FailedPreconditionError("no user 'knot' (package knot)");
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      (void)chown(entry.path().c_str(), knot->pw_uid, knot->pw_gid);
    }
    (void)chown(dir.c_str(), knot->pw_uid, knot->pw_gid);
  }
  auto process = ChildProcess::Start({"/usr/sbin/knotd", "-c", dir + "/knot.conf"});
  if (!process.ok()) return process.status();
  server->process_ = *std::move(process);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (!server->process_->running()) {
      return absl::InternalError(absl::StrCat("knotd exited: ", server->process_->Output()));
    }
    if (absl::StrContains(server->Dig(origin, "SOA"), "SOA")) return server;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("knotd did not answer within 20 s: ", server->process_->Output()));
}

std::string KnotServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string KnotServer::Dig(const std::string& name, const std::string& type) const {
  const RunResult r =
      RunToCompletion({"/usr/bin/kdig", absl::StrCat("@127.0.0.1"), "-p", absl::StrCat(port_), name,
                       type, "+timeout=1", "+retry=0", "+noall", "+answer"},
                      {}, absl::Seconds(10));
  if (r.exit_code != 0) return "";
  // One line per record, fields separated by one space.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(r.output, '\n', absl::SkipWhitespace())) {
    if (absl::StartsWith(line, ";")) continue;
    lines.push_back(
        absl::StrJoin(absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty()), " "));
  }
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<std::unique_ptr<HaproxyServer>> HaproxyServer::Start(
    const std::vector<std::string>& backends, const std::string& backend_options) {
  auto server = std::unique_ptr<HaproxyServer>(new HaproxyServer());
  server->dir_ = MakeTempDir("shadowplane-haproxy");
  server->socket_ = server->dir_ + "/admin.sock";
  server->state_file_ = server->dir_ + "/servers.state";
  std::string config = absl::StrCat(
      "global\n  stats socket ", server->socket_, " mode 600 level admin\n  server-state-file ",
      server->state_file_,
      "\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n"
      "  load-server-state-from-file global\n");
  for (const std::string& b : backends) {
    const int port = FreePort();
    server->ports_.push_back(port);
    absl::StrAppend(&config, "frontend fe_", b, "\n  bind 127.0.0.1:", port, "\n  default_backend ",
                    b, "\nbackend ", b,
                    "\n  stick-table type ip size 10k expire 30m\n  stick on src\n",
                    backend_options.empty() ? "" : absl::StrCat("  ", backend_options, "\n"),
                    "  server live 127.0.0.1:9 disabled\n");
  }
  if (absl::Status s = Write(server->dir_ + "/haproxy.cfg", config); !s.ok()) return s;
  auto process =
      ChildProcess::Start({"/usr/sbin/haproxy", "-db", "-f", server->dir_ + "/haproxy.cfg"});
  if (!process.ok()) return process.status();
  server->process_ = *std::move(process);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (!server->process_->running()) {
      return absl::InternalError(absl::StrCat("haproxy exited: ", server->process_->Output()));
    }
    if (absl::StrContains(server->Ask("show info"), "Name: HAProxy")) return server;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("haproxy did not answer within 20 s: ", server->process_->Output()));
}

std::string HaproxyServer::Ask(const std::string& command) const {
  return RunToCompletion(
             {"/bin/sh", "-c",
              absl::StrCat("echo '", command, "' | /usr/bin/socat - UNIX-CONNECT:", socket_)},
             {}, absl::Seconds(10))
      .output;
}

}  // namespace shadowplane::testing
