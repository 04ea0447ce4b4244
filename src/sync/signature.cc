#include "sync/signature.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace shadowplane::sync {

namespace {

// A signature never indexes more than this many blocks, so that a loaded one (about 20 bytes a
// block with librsync's hash table) stays under ~5 MiB however large the file: the sqrt rule
// reaches it at 64 GiB.
constexpr int64_t kMaxBlocks = int64_t{1} << 18;

rs_job_t* BeginSignature(int64_t size) {
  SignatureParams params = ChooseSignatureParams(size);
  return rs_sig_begin(params.block_len, params.strong_len, RS_RK_BLAKE2_SIG_MAGIC);
}

}  // namespace

SignatureParams ChooseSignatureParams(int64_t size) {
  // Block length: librsync's recommendation, sqrt(size) rounded down to a multiple of 128 (256 at
  // least), which is also rsync's rule. The wire cost of a round is roughly signature bytes
  // (proportional to size / block) plus one block of literal data per changed region
  // (proportional to block); sqrt(size) balances the two for a modest number of changed
  // regions. (Measured on bench/run_sync_bench.sh's data: twice that length cut CPU by ~5% but
  // sent 17% more bytes, three times 34% more.) Above kMaxBlocks blocks the length grows
  // instead, bounding signature memory.
  // Strong sums: the shortest length librsync deems safe against accidental collisions for this
  // size and block length (strong_len = -1), not BLAKE2's full 32 bytes; a false match would
  // still be caught by the whole-file SHA-256 check after patching.
  rs_magic_number magic = RS_RK_BLAKE2_SIG_MAGIC;
  size_t block_len = 0;
  size_t strong_len = static_cast<size_t>(-1);
  rs_sig_args(size, &magic, &block_len, &strong_len);
  int64_t floor_len = (size + kMaxBlocks - 1) / kMaxBlocks;
  if (static_cast<int64_t>(block_len) < floor_len) {
    block_len = static_cast<size_t>((floor_len + 127) & ~int64_t{127});
    strong_len = static_cast<size_t>(-1);
    rs_sig_args(size, &magic, &block_len, &strong_len);
  }
  return SignatureParams{block_len, strong_len};
}

SignatureBuilder::SignatureBuilder(int64_t size) : job_(BeginSignature(size), "signature") {}

absl::Status SignatureBuilder::Update(const char* data, size_t size) {
  return job_.Feed(data, size, false, [this](const char* out, size_t n) {
    signature_.append(out, n);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> SignatureBuilder::Finish() {
  RETURN_IF_ERROR(job_.Feed(nullptr, 0, true, [this](const char* out, size_t n) {
    signature_.append(out, n);
    return absl::OkStatus();
  }));
  return std::move(signature_);
}

absl::StatusOr<std::string> SignFile(int fd, int64_t size) {
  SignatureBuilder builder(size);
  // One read buffer per thread, reused: files come in thousands, each a fresh 1 MiB otherwise.
  static thread_local std::vector<char> buffer(1 << 20);
  int64_t offset = 0;
  for (;;) {
    ssize_t n = pread(fd, buffer.data(), buffer.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("reading the basis failed: ", strerror(errno)));
    }
    if (n == 0) break;
    RETURN_IF_ERROR(builder.Update(buffer.data(), n));
    offset += n;
  }
  return builder.Finish();
}

LoadedSignature::LoadedSignature() : job_(rs_loadsig_begin(&raw_), "signature", 4096) {
  signature_.reset(raw_);
}

absl::Status LoadedSignature::Update(const std::string& chunk) {
  return job_.Feed(chunk.data(), chunk.size(), false, nullptr);
}

absl::Status LoadedSignature::Finish() {
  RETURN_IF_ERROR(job_.Feed(nullptr, 0, true, nullptr));
  return StatusFromRsResult(rs_build_hash_table(signature_.get()), "signature index");
}

}  // namespace shadowplane::sync
