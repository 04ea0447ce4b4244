// Fuzzes what a peer's bytes reach in librsync: a basis signature as the source loads it
// (sync/signature.h), and a delta as the target applies it onto a real basis file
// (sync/patch_applier.h), within the bound the target sets from the file's declared size.
// Input: one selector byte (even: signature, odd: delta), then the stream, fed in pieces whose
// sizes the selector also picks.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/unique_fd.h"
#include "fuzz_input.h"
#include "sync/content_hash.h"
#include "sync/patch_applier.h"
#include "sync/safe_path.h"
#include "sync/signature.h"

namespace {

using shadowplane::UniqueFd;

// A directory with a 64 KiB basis file, made once per process.
const std::string& WorkDir() {
  static const std::string* const dir = [] {
    auto* d = new std::string(shadowplane::fuzz::ScratchDir("delta"));
    std::string basis(64 << 10, '\0');
    uint64_t x = 88172645463325252ull;
    for (char& c : basis) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    const int fd = open((*d + "/basis").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, basis.data(), basis.size()) != static_cast<ssize_t>(basis.size())) {
      std::abort();
    }
    close(fd);
    return d;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const char* stream = reinterpret_cast<const char*>(data + 1);
  const size_t length = size - 1;
  const size_t piece = 1 + (selector >> 1) * 37;
  if ((selector & 1) == 0) {
    shadowplane::sync::LoadedSignature signature;
    for (size_t at = 0; at < length; at += piece) {
      if (!signature.Update(std::string(stream + at, std::min(piece, length - at))).ok()) return 0;
    }
    (void)signature.Finish();
    return 0;
  }
  auto dir = shadowplane::sync::OpenDirectory(WorkDir());
  if (!dir.ok()) std::abort();
  UniqueFd basis(open((WorkDir() + "/basis").c_str(), O_RDONLY | O_CLOEXEC));
  // As the target bounds a file declared at 64 KiB with a slack of 1 MiB.
  auto applier = shadowplane::sync::PatchApplier::Begin(dir->get(), "rebuilt", std::move(basis),
                                                        (64 << 10) * 2 + (1 << 20));
  if (!applier.ok()) std::abort();
  for (size_t at = 0; at < length; at += piece) {
    if (!(*applier)->Feed(stream + at, std::min(piece, length - at)).ok()) return 0;
  }
  shadowplane::sync::Digest none{};
  (void)(*applier)->Commit(none, (*applier)->bytes_written(), 0644, 0);
  unlink((WorkDir() + "/rebuilt").c_str());
  return 0;
}
