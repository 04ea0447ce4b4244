// The agent side of the sync benchmark (bench/run_sync_bench.sh drives it):
//
//   sync_bench create --agent=HOST:PORT --instance=ID --seed_dir=DIR [--read_only]
//       Creates an instance seeded from DIR and prints its data directory.
//   sync_bench sync --target_agent=HOST:PORT --source_agent=HOST:PORT --source_instance=ID
//                   --target_instance=ID [--mode=quick|checksum|final]
//       Runs one round (SyncFrom on the target agent) and prints one line of figures:
//       wall seconds, wire bytes (signatures included), literal, matched and signature bytes,
//       files transferred, signatures served from the cache, and the tree hashes with
//       identical=yes|no for checksum and final rounds (exit status 3 when no: the trees differ)
//       and identical=not-checked for quick ones, which compute no tree hash.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"

ABSL_FLAG(std::string, agent, "", "create: the agent");
ABSL_FLAG(std::string, instance, "", "create: the instance id");
ABSL_FLAG(std::string, seed_dir, "", "create: the seed directory");
ABSL_FLAG(bool, read_only, false, "create: a read-only instance");
ABSL_FLAG(std::string, target_agent, "", "sync: the target agent");
ABSL_FLAG(std::string, source_agent, "", "sync: the source agent");
ABSL_FLAG(std::string, source_location, "source", "sync: the source agent's location");
ABSL_FLAG(std::string, source_instance, "", "sync: the source instance");
ABSL_FLAG(std::string, target_instance, "", "sync: the target instance");
ABSL_FLAG(std::string, mode, "quick", "sync: quick, checksum or final");
ABSL_FLAG(std::vector<std::string>, paths, {}, "sync: final mode's dirty set, comma-separated");

namespace pb = shadowplane::agent::v1;

namespace {

void Prepare(grpc::ClientContext& context) {
  context.AddMetadata(shadowplane::kAgentProtocolMetadataKey,
                      absl::StrCat(shadowplane::kAgentProtocolVersion));
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
}

int Create() {
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_agent), grpc::InsecureChannelCredentials());
  auto stub = pb::AgentService::NewStub(channel);
  pb::CreateInstanceRequest request;
  request.set_instance_id(absl::GetFlag(FLAGS_instance));
  request.set_resource_id("bench");
  request.mutable_capacity()->set_millicores(500);
  request.mutable_capacity()->set_memory_mib(256);
  request.set_read_only(absl::GetFlag(FLAGS_read_only));
  if (!request.read_only()) {
    // No control plane renews it: the longest lease an agent accepts outlasts the benchmark.
    request.mutable_grant()->set_epoch(1);
    request.mutable_grant()->set_lease_ms(600000);
  }
  request.set_seed_dir(absl::GetFlag(FLAGS_seed_dir));
  pb::Instance instance;
  grpc::ClientContext context;
  Prepare(context);
  grpc::Status status = stub->CreateInstance(&context, request, &instance);
  if (!status.ok()) {
    std::cerr << "CreateInstance: " << status.error_message() << "\n";
    return 1;
  }
  std::cout << instance.data_dir() << "\n";
  return 0;
}

int Sync() {
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target_agent), grpc::InsecureChannelCredentials());
  auto stub = pb::SyncService::NewStub(channel);
  pb::SyncFromRequest request;
  request.set_source_endpoint(absl::GetFlag(FLAGS_source_agent));
  request.set_source_location(absl::GetFlag(FLAGS_source_location));
  request.set_source_instance_id(absl::GetFlag(FLAGS_source_instance));
  request.set_target_instance_id(absl::GetFlag(FLAGS_target_instance));
  std::string mode = absl::GetFlag(FLAGS_mode);
  request.set_mode(mode == "final" ? pb::FINAL : mode == "checksum" ? pb::CHECKSUM : pb::QUICK);
  for (const std::string& p : absl::GetFlag(FLAGS_paths)) request.add_paths(p);
  pb::SyncFromResponse response;
  grpc::ClientContext context;
  Prepare(context);
  absl::Time start = absl::Now();
  grpc::Status status = stub->SyncFrom(&context, request, &response);
  double wall = absl::ToDoubleSeconds(absl::Now() - start);
  if (!status.ok()) {
    std::cerr << "SyncFrom: " << status.error_message() << "\n";
    return 1;
  }
  const pb::SyncStats& s = response.stats();
  // Quick rounds trust sizes and times and compute no tree hash: they prove nothing either way.
  // Checksum and final rounds must end with equal tree hashes.
  const bool proves = request.mode() != pb::QUICK;
  const bool identical = !response.source_tree_hash().empty() &&
                         response.source_tree_hash() == response.target_tree_hash();
  std::cout << absl::StrFormat(
      "wall_seconds=%.3f wire_bytes=%d literal_bytes=%d matched_bytes=%d signature_bytes=%d "
      "files_transferred=%d files_deleted=%d signatures_cached=%d dirty=%d source_tree=%s "
      "target_tree=%s identical=%s\n",
      wall, s.bytes_wire(), s.bytes_literal(), s.bytes_matched(), s.bytes_signature(),
      s.files_transferred(), s.files_deleted(), s.signatures_cached(), response.dirty_files(),
      response.source_tree_hash().substr(0, 16), response.target_tree_hash().substr(0, 16),
      !proves     ? "not-checked"
      : identical ? "yes"
                  : "no");
  if (proves && !identical) {
    std::cerr << "sync_bench: a " << mode << " round ended with different tree hashes (source "
              << response.source_tree_hash() << ", target " << response.target_tree_hash() << ")\n";
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  std::string command = args.size() > 1 ? args[1] : "";
  if (command == "create") return Create();
  if (command == "sync") return Sync();
  std::cerr << "usage: sync_bench create|sync [flags]\n";
  return 2;
}
