// Helpers shared by the fuzz targets: splitting one input into records, and handing bytes to code
// that reads files by path without touching the disk.
#ifndef SHADOWPLANE_BENCH_FUZZ_FUZZ_INPUT_H_
#define SHADOWPLANE_BENCH_FUZZ_FUZZ_INPUT_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shadowplane::fuzz {

// Records of the form [length: 2 bytes, little endian][bytes], as many as the input holds (the
// last one cut short if the input ends early). The same framing is written by the corpus
// generator, so that a seed's records are whole messages.
inline std::vector<std::string> SplitRecords(const uint8_t* data, size_t size,
                                             size_t max_records = 256) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at + 2 <= size && out.size() < max_records) {
    const size_t length = data[at] | (size_t{data[at + 1]} << 8);
    at += 2;
    const size_t n = std::min(length, size - at);
    out.emplace_back(reinterpret_cast<const char*>(data + at), n);
    at += n;
  }
  return out;
}

// A file in memory holding `bytes`, named by a path any open() takes (/proc/self/fd/N). Closed on
// destruction.
class MemoryFile {
 public:
  explicit MemoryFile(absl::string_view bytes) : fd_(memfd_create("fuzz", MFD_CLOEXEC)) {
    size_t done = 0;
    while (fd_ >= 0 && done < bytes.size()) {
      const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() {
    if (fd_ >= 0) close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const { return absl::StrCat("/proc/self/fd/", fd_); }

 private:
  const int fd_;
};

inline std::vector<std::string>& ScratchDirs() {
  static auto* const dirs = new std::vector<std::string>;
  return *dirs;
}

// A fresh directory under the temporary directory, removed when the process exits normally (a
// replay run, or a fuzzer reaching its time limit).
inline std::string ScratchDir(const char* name) {
  static const bool registered = [] {
    std::atexit([] {
      for (const std::string& dir : ScratchDirs()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    });
    return true;
  }();
  (void)registered;
  std::string path =
      absl::StrCat(std::filesystem::temp_directory_path().string(), "/sp-fuzz-", name, "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) std::abort();
  ScratchDirs().push_back(path);
  return path;
}

}  // namespace shadowplane::fuzz

#endif  // SHADOWPLANE_BENCH_FUZZ_FUZZ_INPUT_H_
