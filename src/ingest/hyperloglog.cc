#include "ingest/hyperloglog.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace shadowplane::ingest {

namespace {

constexpr uint8_t kFormatVersion = 1;

uint64_t Finalize(uint64_t h) {  // MurmurHash3 fmix64: every input bit affects every output bit
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t SketchHash(absl::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Finalize(h);
}

HyperLogLog::HyperLogLog(int precision)
    : precision_(std::clamp(precision, kMinPrecision, kMaxPrecision)),
      registers_(size_t{1} << precision_, 0) {}

void HyperLogLog::AddHash(uint64_t hash) {
  const uint64_t index = hash >> (64 - precision_);
  const uint64_t rest = hash << precision_;
  // The position of the first 1 bit in what is left (all zeros: one past the end).
  const int max_rank = 64 - precision_ + 1;
  const int rank = rest == 0 ? max_rank : std::min(__builtin_clzll(rest) + 1, max_rank);
  registers_[index] = std::max<uint8_t>(registers_[index], static_cast<uint8_t>(rank));
}

absl::Status HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge sketches of precision ", precision_, " and ", other.precision_));
  }
  for (size_t i = 0; i < registers_.size(); ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
  return absl::OkStatus();
}

double HyperLogLog::Estimate() const {
  const double m = static_cast<double>(registers_.size());
  double sum = 0;
  int zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  const double alpha = m == 16   ? 0.673
                       : m == 32 ? 0.697
                       : m == 64 ? 0.709
                                 : 0.7213 / (1 + 1.079 / m);
  const double raw = alpha * m * m / sum;
  // Small cardinalities: linear counting over the empty registers is far more accurate.
  if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / zeros);
  return raw;
}

std::string HyperLogLog::Serialize() const {
  std::string out;
  out.reserve(2 + registers_.size());
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(precision_));
  out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
  return out;
}

absl::StatusOr<HyperLogLog> HyperLogLog::Parse(absl::string_view bytes) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return absl::InvalidArgumentError("not a serialised HyperLogLog sketch (version)");
  }
  const int precision = static_cast<uint8_t>(bytes[1]);
  if (precision < kMinPrecision || precision > kMaxPrecision ||
      bytes.size() != 2 + (size_t{1} << precision)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a serialised HyperLogLog sketch (precision ", precision, ", ",
                     bytes.size(), " bytes)"));
  }
  HyperLogLog sketch(precision);
  const int max_rank = 64 - precision + 1;
  for (size_t i = 0; i < sketch.registers_.size(); ++i) {
    const uint8_t r = static_cast<uint8_t>(bytes[2 + i]);
    if (r > max_rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("HyperLogLog register ", i, " is ", r, ", more than ", max_rank));
    }
    sketch.registers_[i] = r;
  }
  return sketch;
}

}  // namespace shadowplane::ingest
