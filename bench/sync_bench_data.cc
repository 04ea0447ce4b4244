// Seeded data for the sync benchmark, so that every run (and rsync, in the same run) sees the
// same bytes.
//
//   sync_bench_data generate DIR [--seed=1] [--files=200] [--total_mib=512]
//       ~`files` files of random bytes totalling ~`total_mib` MiB in a few subdirectories,
//       sizes spread log-uniformly from 64 KiB to 16 MiB, scaled to the total.
//   sync_bench_data mutate DIR [--seed=2] [--fraction=0.01] [--mtime_shift=3600]
//       Changes ~`fraction` of the bytes in scattered places: overwrites in most files, inserts
//       in some, appends in a few; deletes one file and adds one. Every changed file's mtime
//       moves forward by `mtime_shift` seconds (rsync's quick check would otherwise skip a file
//       of the same size and mtime). Files are rewritten in place (same inode), as an
//       application would.
//   sync_bench_data dirty DIR [--seed=4] [--count=10]
//       Overwrites 4 KiB in the middle of `count` files, in place, and prints their paths
//       (relative to DIR, comma-separated) and their total size: a dirty set for a final round.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"

ABSL_FLAG(uint64_t, seed, 0, "Seed (default 1 for generate, 2 for mutate)");
ABSL_FLAG(int, files, 200, "generate: number of files");
ABSL_FLAG(int64_t, total_mib, 512, "generate: total size in MiB");
ABSL_FLAG(double, fraction, 0.01, "mutate: fraction of bytes changed");
ABSL_FLAG(int64_t, mtime_shift, 3600, "mutate: seconds added to each changed file's mtime");
ABSL_FLAG(int, count, 10, "dirty: number of files to change");

namespace fs = std::filesystem;

namespace {

// splitmix64: fast, seedable, good enough to make incompressible bytes.
struct Random {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t Range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Next() % (hi - lo)); }
  void Fill(char* out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v = Next();
      memcpy(out + i, &v, 8);
    }
    uint64_t v = Next();
    memcpy(out + i, &v, n - i);
  }
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), data.size());
}

void ShiftMtime(const fs::path& path, int64_t seconds) {
  struct stat st {};
  stat(path.c_str(), &st);
  struct timespec times[2];
  times[0] = st.st_atim;
  times[1] = st.st_mtim;
  times[1].tv_sec += seconds;
  utimensat(AT_FDCWD, path.c_str(), times, 0);
}

int Generate(const fs::path& dir, uint64_t seed) {
  Random random{seed};
  int files = absl::GetFlag(FLAGS_files);
  int64_t total = absl::GetFlag(FLAGS_total_mib) << 20;
  std::vector<double> weights;
  double sum = 0;
  for (int i = 0; i < files; ++i) {
    // log-uniform between 64 KiB and 16 MiB
    double w = std::exp(std::log(64.0 * 1024) + random.Uniform() * std::log(256.0));
    weights.push_back(w);
    sum += w;
  }
  fs::create_directories(dir);
  std::string data;
  int64_t written = 0;
  for (int i = 0; i < files; ++i) {
    int64_t size = static_cast<int64_t>(weights[i] / sum * total);
    fs::path sub = dir / absl::StrFormat("d%02d", i % 8);
    fs::create_directories(sub);
    data.resize(size);
    random.Fill(data.data(), data.size());
    WriteAll(sub / absl::StrFormat("file%04d.bin", i), data);
    written += size;
  }
  std::cout << absl::StrFormat("generated %d files, %d bytes in %s\n", files, written,
                               dir.string());
  return 0;
}

int Mutate(const fs::path& dir, uint64_t seed) {
  Random random{seed};
  double fraction = absl::GetFlag(FLAGS_fraction);
  int64_t shift = absl::GetFlag(FLAGS_mtime_shift);
  std::vector<fs::path> files;
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      files.push_back(e.path());
      total += e.file_size();
    }
  }
  std::sort(files.begin(), files.end());
  int64_t budget = static_cast<int64_t>(total * fraction);
  int64_t changed = 0;
  int edited = 0;
  // One file goes, one arrives (about the size of an average file).
  fs::path gone = files[random.Range(0, files.size())];
  fs::remove(gone);
  std::string fresh(total / files.size(), '\0');
  random.Fill(fresh.data(), fresh.size());
  WriteAll(dir / "d00" / absl::StrFormat("new-%016x.bin", random.Next()), fresh);
  std::string bytes;
  for (const fs::path& path : files) {
    if (path == gone || random.Uniform() < 0.1) continue;  // ~10% of files untouched
    std::string data = ReadAll(path);
    // Scattered edits: a share of the budget proportional to the file's size.
    int64_t share = static_cast<int64_t>(budget * (double(data.size()) / total) / 0.9);
    while (share > 0 && !data.empty()) {
      int64_t len = std::min<int64_t>(share, random.Range(256, 8192));
      bytes.resize(len);
      random.Fill(bytes.data(), len);
      double kind = random.Uniform();
      if (kind < 0.8) {  // overwrite
        int64_t at = random.Range(0, std::max<int64_t>(1, data.size() - len));
        data.replace(at, std::min<int64_t>(len, data.size() - at), bytes);
      } else if (kind < 0.95) {  // insert
        data.insert(random.Range(0, data.size()), bytes);
      } else {  // append
        data += bytes;
      }
      share -= len;
      changed += len;
    }
    // In place, keeping the inode, as an application rewriting its file would.
    WriteAll(path, data);
    ShiftMtime(path, shift);
    ++edited;
  }
  std::cout << absl::StrFormat(
      "mutated %d of %d files (%d bytes changed, %.2f%%), deleted %s, added one\n", edited,
      files.size(), changed, 100.0 * changed / total, gone.filename().string());
  return 0;
}

int Dirty(const fs::path& dir, uint64_t seed) {
  Random random{seed};
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int count = std::min<int>(absl::GetFlag(FLAGS_count), files.size());
  std::string paths;
  int64_t bytes = 0;
  std::string patch(4096, '\0');
  for (int i = 0; i < count; ++i) {
    size_t pick = random.Range(i, files.size());
    std::swap(files[i], files[pick]);
    const fs::path& path = files[i];
    random.Fill(patch.data(), patch.size());
    int64_t size = fs::file_size(path);
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(size / 2);
    f.write(patch.data(), std::min<int64_t>(patch.size(), size));
    f.close();
    ShiftMtime(path, 60);
    bytes += fs::file_size(path);
    if (!paths.empty()) paths += ",";
    paths += fs::relative(path, dir).string();
  }
  std::cout << paths << " " << bytes << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() == 3 ? args[1] : "";
  if (command != "generate" && command != "mutate" && command != "dirty") {
    std::cerr << "usage: sync_bench_data generate|mutate|dirty DIR [flags]\n";
    return 2;
  }
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (command == "generate") return Generate(args[2], seed ? seed : 1);
  if (command == "dirty") return Dirty(args[2], seed ? seed : 4);
  return Mutate(args[2], seed ? seed : 2);
}
