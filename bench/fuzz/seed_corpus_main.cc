// Writes the seed corpus of every fuzz target (bench/fuzz/corpus/<target>/): well-formed inputs
// that reach deep, from which the fuzzers mutate. Protocol seeds are made by the real code (real
// signatures, deltas and hashes), so that they stay valid as the code changes:
//   build/bench/fuzz/fuzz_seed_corpus bench/fuzz/corpus
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shadowplane/agent/v1/sync.pb.h"
#include "shadowplane/agent/v1/write_lease.pb.h"
#include "shadowplane/v1/events.pb.h"
#include "shadowplane/v1/forecast.pb.h"
#include "shadowplane/v1/planner.pb.h"
#include "shadowplane/v1/reservations.pb.h"
#include "shadowplane/v1/telemetry.pb.h"
#include "sync/content_hash.h"
#include "sync/delta_encoder.h"
#include "sync/safe_path.h"
#include "sync/signature.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = shadowplane::agent::v1;
namespace pb = shadowplane::v1;
using shadowplane::sync::DigestBytes;

std::string out_dir;

void Put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_dir + "/" + target);
  std::ofstream(out_dir + "/" + target + "/" + name, std::ios::binary) << bytes;
}

std::string Record(const google::protobuf::MessageLite& m) {
  const std::string bytes = m.SerializeAsString();
  return std::string{static_cast<char>(bytes.size() & 0xff),
                     static_cast<char>((bytes.size() >> 8) & 0xff)} +
         bytes;
}

std::string Selected(uint8_t selector, const std::string& rest) {
  return std::string(1, static_cast<char>(selector)) + rest;
}

std::string Basis() {
  std::string basis(64 << 10, '\0');
  uint64_t x = 88172645463325252ull;  // as sync_delta_fuzzer.cc makes it
  for (char& c : basis) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return basis;
}

// The librsync delta turning `basis` into `target`, through the real encoder.
std::string Delta(const std::string& basis, const std::string& target) {
  const std::string dir = fs::temp_directory_path() / "sp-fuzz-seeds";
  fs::create_directories(dir);
  std::ofstream(dir + "/target", std::ios::binary) << target;
  shadowplane::sync::SignatureBuilder builder(static_cast<int64_t>(basis.size()));
  (void)builder.Update(basis.data(), basis.size());
  const std::string sig = *builder.Finish();
  shadowplane::sync::LoadedSignature loaded;
  (void)loaded.Update(sig);
  (void)loaded.Finish();
  auto root = shadowplane::sync::OpenDirectory(dir);
  std::string delta;
  (void)shadowplane::sync::EncodeFileDelta(root->get(), "target", loaded.get(),
                                           [&](const char* d, size_t n) {
                                             delta.append(d, n);
                                             return absl::OkStatus();
                                           });
  fs::remove_all(dir);
  return delta;
}

shadowplane::sync::Digest Sha256(const std::string& data) {
  shadowplane::sync::ContentHasher hasher;
  hasher.Update(data.data(), data.size());
  return hasher.Finish();
}

std::string Signature(const std::string& data) {
  shadowplane::sync::SignatureBuilder builder(static_cast<int64_t>(data.size()));
  (void)builder.Update(data.data(), data.size());
  return *builder.Finish();
}

void SyncSeeds() {
  const std::string basis = Basis();
  std::string edited = basis;
  edited.replace(1000, 200, std::string(200, 'x'));
  edited += "appended";
  Put("sync_delta", "signature", Selected(0, Signature(basis)));
  Put("sync_delta", "signature-small", Selected(2, Signature("hello")));
  Put("sync_delta", "delta-edit", Selected(1, Delta(basis, edited)));
  Put("sync_delta", "delta-new", Selected(3, Delta("", "all literal")));

  // The source's side: open, a file's signature in two pieces, finish.
  for (v1::SyncMode mode : {v1::QUICK, v1::CHECKSUM, v1::FINAL}) {
    v1::PullRequest open;
    open.mutable_open()->set_instance_id("source");
    open.mutable_open()->set_mode(mode);
    const std::string sig = Signature(std::string(100000, 'c'));
    v1::PullRequest first, second, empty, finish;
    first.mutable_file()->set_file_id(1);
    first.mutable_file()->set_path("b.bin");
    first.mutable_file()->set_signature(sig.substr(0, sig.size() / 2));
    second.mutable_file()->set_file_id(1);
    second.mutable_file()->set_signature(sig.substr(sig.size() / 2));
    second.mutable_file()->set_last(true);
    empty.mutable_file()->set_file_id(2);
    empty.mutable_file()->set_path("a.txt");
    empty.mutable_file()->set_signature(Signature(""));
    empty.mutable_file()->set_last(true);
    finish.mutable_finish();
    Put("pull_source", absl::StrCat("round-", v1::SyncMode_Name(mode)),
        Record(open) + Record(first) + Record(second) + Record(empty) + Record(finish));
  }

  // The target's side: a heartbeat, a manifest, a file's delta and end, the closing.
  const std::string content = "new alpha, longer than before";
  v1::PullResponse beat, manifest, delta, end, closing;
  beat.mutable_heartbeat();
  v1::Manifest* m = manifest.mutable_manifest();
  auto add = [&](const std::string& path, v1::EntryKind kind, int64_t size) {
    v1::Entry* e = m->add_entries();
    e->set_path(path);
    e->set_kind(kind);
    e->set_mode(kind == v1::DIRECTORY ? 0755 : 0644);
    e->set_size(size);
    e->set_mtime_ns(1600000000000000000);
    return e;
  };
  add("a.txt", v1::FILE, static_cast<int64_t>(content.size()))
      ->set_sha256(DigestBytes(Sha256(content)));
  add("dir", v1::DIRECTORY, 0);
  add("dir/link", v1::SYMLINK, 0)->set_link_target("../a.txt");
  m->set_last(true);
  delta.mutable_delta()->set_file_id(1);
  delta.mutable_delta()->set_data(Delta("", content));
  end.mutable_file_end()->set_file_id(1);
  end.mutable_file_end()->set_size(static_cast<int64_t>(content.size()));
  end.mutable_file_end()->set_mtime_ns(1600000000000000000);
  end.mutable_file_end()->set_mode(0644);
  end.mutable_file_end()->set_sha256(DigestBytes(Sha256(content)));
  closing.mutable_closing()->set_dirty_files(0);
  Put("pull_target", "round",
      Record(beat) + Record(manifest) + Record(delta) + Record(end) + Record(closing));
  Put("pull_target", "manifest-only", Record(manifest));

  for (const v1::Entry& e : m->entries())
    Put("manifest", "entry-" + e.path().substr(0, 5), e.SerializeAsString());
  Put("manifest", "path-deep", "a/b/c/d.txt");
  Put("manifest", "path-temporary", ".shadowplane-sync-0123456789abcdef");
}

void TextSeeds(const std::string& source_dir) {
  auto file = [&](const std::string& path) {
    std::ifstream in(source_dir + "/" + path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  Put("config_yaml", "config",
      Selected(0,
               "fuzz_int: 3\nfuzz_int64: -7\nfuzz_double: 2.5\nfuzz_bool: true\n"
               "fuzz_string: \"x\"\nfuzz_duration: 90s\nfuzz_list: [a, b]\n"));
  Put("config_yaml", "locations", Selected(1, file("deploy/local/locations.yaml")));
  Put("config_yaml", "tokens",
      Selected(2,
               "tokens:\n  - {name: ops, role: operator, team: web, sha256: "
               "\"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\"}\n"
               "teams:\n  - {name: web, max_millicores: 16000}\n"));
  Put("config_yaml", "instance",
      Selected(3,
               "instance_id: i-1\nresource_id: r-1\naddress: 127.0.1.1\nport: 8080\n"
               "millicores: 1000\nmemory_mib: 512\nread_only: false\n"));
  Put("config_yaml", "evaluation", Selected(4, file("bench/evaluation/synthetic.yaml")));
  Put("demand_csv", "demand",
      Selected(0,
               "date_time,raw demand (MW),cleaned demand (MW)\n2019-01-01 00:00:00,10,11\n"
               "2019-01-01 01:00:00,12,13\n"));
  Put("demand_csv", "accesses",
      Selected(1,
               "time,client_ip,resource_id,request_type,bytes_in,bytes_out,latency_ms\n"
               "2026-11-29T12:00:00Z,192.0.2.7,5d3c0000-0000-4000-8000-000000000001,GET,120,"
               "4096,12.5\n2026-11-29T12:00:01Z,2001:db8::1,5d3c0000-0000-4000-8000-"
               "000000000001,PUT,10,0,\n"));
  Put("http_request", "get", "GET /dir/a.txt?x=1 HTTP/1.1\r\nHost: i\r\nX-Client-Id: c-1\r\n\r\n");
  Put("http_request", "put",
      "PUT /f.bin HTTP/1.1\r\nHost: i\r\nContent-Length: 5\r\nX-Forwarded-For: 192.0.2.1, "
      "10.0.0.1\r\n\r\nhello");
  Put("http_request", "chunked",
      "PUT /c HTTP/1.1\r\nHost: i\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  Put("http_request", "forwarded",
      "DELETE /x HTTP/1.1\r\nHost: i\r\nX-Shadowplane-Forwarded-By: i-2\r\n"
      "X-Shadowplane-Forward-Signature: 1700000000.00ff\r\n\r\n");
}

void ApiSeeds() {
  pb::RegisterEventRequest event;
  event.set_kind("campaign");
  event.set_name("launch");
  event.mutable_start_time()->set_seconds(1800000000);
  event.mutable_end_time()->set_seconds(1800086400);
  Put("api_requests", "register-event", Selected(0, event.SerializeAsString()));
  pb::ListEventsRequest list_events;
  list_events.mutable_ending_after()->set_seconds(1800000000);
  Put("api_requests", "list-events", Selected(1, list_events.SerializeAsString()));
  pb::PlanRequest plan;
  plan.mutable_horizon()->set_seconds(86400);
  Put("api_requests", "plan", Selected(2, plan.SerializeAsString()));
  pb::PlannerOverrides overrides;
  overrides.mutable_min_dwell()->set_seconds(3600);
  Put("api_requests", "overrides", Selected(3, overrides.SerializeAsString()));
  pb::ListDecisionsRequest decisions;
  decisions.mutable_from()->set_seconds(1800000000);
  Put("api_requests", "decisions", Selected(4, decisions.SerializeAsString()));
  pb::GetDemandRequest demand;
  demand.set_resource_id("5d3c0000-0000-4000-8000-000000000001");
  demand.mutable_from()->set_seconds(1800000000);
  demand.mutable_to()->set_seconds(1800086400);
  Put("api_requests", "demand", Selected(5, demand.SerializeAsString()));
  pb::AccessBatch batch;
  batch.set_batch_id("b-1");
  pb::AccessEvent* e = batch.add_events();
  e->set_client_ip("192.0.2.7");
  e->set_resource_id("5d3c0000-0000-4000-8000-000000000001");
  e->set_bytes_out(4096);
  Put("api_requests", "access-batch", Selected(6, batch.SerializeAsString()));
  pb::PredictRequest predict;
  predict.set_resource_id("5d3c0000-0000-4000-8000-000000000001");
  predict.add_quantiles(0.1);
  predict.add_quantiles(0.9);
  Put("api_requests", "predict", Selected(7, predict.SerializeAsString()));
  v1::RenewWriteLeasesRequest renew;
  renew.add_leases()->set_instance_id("i-1");
  Put("api_requests", "renew", Selected(8, renew.SerializeAsString()));
  pb::ReserveRequest reserve;
  reserve.set_request_id("r-1");
  reserve.set_name("web");
  reserve.set_millicores(1000);
  reserve.set_memory_mib(512);
  Put("api_requests", "reserve", Selected(9, reserve.SerializeAsString()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SOURCE_DIR\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  SyncSeeds();
  TextSeeds(argv[2]);
  ApiSeeds();
  std::printf("seed corpus written to %s\n", out_dir.c_str());
  return 0;
}
