#include "ingest/hyperloglog.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"

namespace shadowplane::ingest {

namespace {

// The first byte says which form follows: every register, or only the non-zero ones (an hour of
// a quiet resource's demand has a few clients; its sketch then takes a few bytes, not 4 KiB).
constexpr uint8_t kDenseFormat = 1;
constexpr uint8_t kSparseFormat = 2;

uint64_t Finalize(uint64_t h) {  // MurmurHash3 fmix64: every input bit affects every output bit
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t SketchHash(absl::string_view key) { return Finalize(Fnv1a64(key)); }

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
  size_t nonzero = 0;
  for (uint8_t r : registers_) nonzero += r != 0;
  std::string out;
  if (nonzero * 3 < registers_.size()) {
    // Sparse: (index low byte, index high byte, value) per non-zero register, by index.
    out.reserve(2 + 3 * nonzero);
    out.push_back(static_cast<char>(kSparseFormat));
    out.push_back(static_cast<char>(precision_));
    for (size_t i = 0; i < registers_.size(); ++i) {
      if (registers_[i] == 0) continue;
      out.push_back(static_cast<char>(i & 0xff));
      out.push_back(static_cast<char>(i >> 8));
      out.push_back(static_cast<char>(registers_[i]));
    }
    return out;
  }
  out.reserve(2 + registers_.size());
  out.push_back(static_cast<char>(kDenseFormat));
  out.push_back(static_cast<char>(precision_));
  out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
  return out;
}

absl::StatusOr<HyperLogLog> HyperLogLog::Parse(absl::string_view bytes) {
  const uint8_t format = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  if (bytes.size() < 2 || (format != kDenseFormat && format != kSparseFormat)) {
    return absl::InvalidArgumentError("not a serialised HyperLogLog sketch (version)");
  }
  const int precision = static_cast<uint8_t>(bytes[1]);
  const size_t size = size_t{1} << std::min(precision, 31);
  const bool length_ok = format == kDenseFormat
                             ? bytes.size() == 2 + size
                             : (bytes.size() - 2) % 3 == 0 && (bytes.size() - 2) / 3 <= size;
  if (precision < kMinPrecision || precision > kMaxPrecision || !length_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a serialised HyperLogLog sketch (precision ", precision, ", ",
                     bytes.size(), " bytes)"));
  }
  HyperLogLog sketch(precision);
  const int max_rank = 64 - precision + 1;
  auto set = [&](size_t i, uint8_t r) -> absl::Status {
    if (r > max_rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("HyperLogLog register ", i, " is ", r, ", more than ", max_rank));
    }
    sketch.registers_[i] = r;
    return absl::OkStatus();
  };
  if (format == kDenseFormat) {
    for (size_t i = 0; i < size; ++i) {
      if (absl::Status s = set(i, static_cast<uint8_t>(bytes[2 + i])); !s.ok()) return s;
    }
    return sketch;
  }
  size_t previous = 0;
  for (size_t at = 2; at < bytes.size(); at += 3) {
    const size_t i = static_cast<uint8_t>(bytes[at]) | (static_cast<uint8_t>(bytes[at + 1]) << 8);
    const uint8_t r = static_cast<uint8_t>(bytes[at + 2]);
    if (i >= size || r == 0 || (at > 2 && i <= previous)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sparse HyperLogLog entry at byte ", at, " is out of order or empty"));
    }
    if (absl::Status s = set(i, r); !s.ok()) return s;
    previous = i;
  }
  return sketch;
}

absl::StatusOr<std::string> MergeSerialized(absl::string_view a, absl::string_view b) {
  ASSIGN_OR_RETURN(HyperLogLog merged, HyperLogLog::Parse(a));
  ASSIGN_OR_RETURN(HyperLogLog other, HyperLogLog::Parse(b));
  RETURN_IF_ERROR(merged.Merge(other));
  return merged.Serialize();
}

}  // namespace shadowplane::ingest
