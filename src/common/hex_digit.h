// One hexadecimal digit's value, for parsers of untrusted text (UUIDs, percent-encoded paths).
#ifndef SHADOWPLANE_COMMON_HEX_DIGIT_H_
#define SHADOWPLANE_COMMON_HEX_DIGIT_H_

namespace shadowplane {

// 0-15 for [0-9a-fA-F]; -1 for any other character.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_HEX_DIGIT_H_
