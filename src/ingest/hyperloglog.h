// A HyperLogLog sketch of distinct clients: fixed memory (2^precision one-byte registers),
// mergeable (the union of two sketches is their register-wise maximum, so hourly sketches combine
// into daily ones without counting a client twice), and serialisable for storage in PostgreSQL.
// Standard error about 1.04 / sqrt(2^precision): 1.6% at the default precision 12.
//
// The hash is fixed (FNV-1a, then MurmurHash3's 64-bit finaliser), not absl::Hash, so that
// sketches written by different processes and versions can be merged. Not thread-safe.
#ifndef SHADOWPLANE_INGEST_HYPERLOGLOG_H_
#define SHADOWPLANE_INGEST_HYPERLOGLOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shadowplane::ingest {

// The sketch's stable 64-bit hash of a client key (a client id or an IP address's bytes).
uint64_t SketchHash(absl::string_view key);

class HyperLogLog {
 public:
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 16;
  static constexpr int kDefaultPrecision = 12;

  // `precision` in [kMinPrecision, kMaxPrecision] (clamped).
  explicit HyperLogLog(int precision = kDefaultPrecision);

  void Add(absl::string_view key) { AddHash(SketchHash(key)); }
  void AddHash(uint64_t hash);
  // The union. INVALID_ARGUMENT when the precisions differ.
  absl::Status Merge(const HyperLogLog& other);
  // The estimated number of distinct keys added.
  double Estimate() const;

  int precision() const { return precision_; }
  // Format byte, precision byte, then every register (dense) or (index, value) of each non-zero
  // register (sparse), whichever is smaller.
  std::string Serialize() const;
  // INVALID_ARGUMENT for bytes that are not a serialised sketch.
  static absl::StatusOr<HyperLogLog> Parse(absl::string_view bytes);

 private:
  int precision_;
  std::vector<uint8_t> registers_;
};

// The union of two serialised sketches, serialised (how stored hourly sketches are merged).
// INVALID_ARGUMENT when either is not a sketch or their precisions differ.
absl::StatusOr<std::string> MergeSerialized(absl::string_view a, absl::string_view b);

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_HYPERLOGLOG_H_
