// Lower-case hex, the form bytea travels in as text (encode(..., 'hex'), '\x...' literals).
#ifndef SHADOWPLANE_STORE_HEX_H_
#define SHADOWPLANE_STORE_HEX_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shadowplane::store {

inline void AppendHex(absl::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out->push_back(kDigits[c >> 4]);
    out->push_back(kDigits[c & 15]);
  }
}

// The bytes of lower-case hex text as PostgreSQL's encode() writes it (even length, [0-9a-f]).
inline std::string DecodeHex(absl::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_HEX_H_
