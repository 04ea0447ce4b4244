// A 64-bit hash that is the same in every process and on every machine: FNV-1a (Fowler, Noll,
// Vo), for seeds and sketches that must reproduce across runs. absl::Hash is seeded per process
// and so cannot serve there.
#ifndef SHADOWPLANE_COMMON_STABLE_HASH_H_
#define SHADOWPLANE_COMMON_STABLE_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace shadowplane {

inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ULL;

// FNV-1a 64 of `bytes`, continuing from `h` (the offset basis for a fresh hash).
inline uint64_t Fnv1a64(absl::string_view bytes, uint64_t h = kFnv1aOffsetBasis) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_STABLE_HASH_H_
