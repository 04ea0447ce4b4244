// PostgreSQL array literals ('{a,"b c",NULL}') built in one pass, for statements that take many
// rows as a few array parameters (INSERT ... SELECT FROM unnest($1::uuid[], $2::text[], ...)).
// The server parses an array literal far faster than the same rows spelled out as a VALUES list
// in SQL, which it must run through the grammar and planner row by row.
#ifndef SHADOWPLANE_STORE_SQL_ARRAY_H_
#define SHADOWPLANE_STORE_SQL_ARRAY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "store/copy_text.h"
#include "store/hex.h"
#include "store/uuid.h"

namespace shadowplane::store {

class SqlArray {
 public:
  SqlArray() : text_("{") {}

  // Any text, quoted and escaped.
  void AddText(absl::string_view value) {
    Separator();
    text_.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') text_.push_back('\\');
      text_.push_back(c);
    }
    text_.push_back('"');
  }
  void AddNull() {
    Separator();
    text_.append("NULL");
  }
  void AddInt(int64_t value) {
    Separator();
    AppendCopyInt(value, &text_);
  }
  void AddDouble(double value) {
    Separator();
    AppendCopyDouble(value, &text_);
  }
  void AddTime(absl::Time value) {
    Separator();
    text_.push_back('"');
    AppendCopyTime(value, &text_);
    text_.push_back('"');
  }
  // bytea, in its hex form.
  void AddBytes(absl::string_view bytes) {
    Separator();
    text_.append("\"\\\\x");
    AppendHex(bytes, &text_);
    text_.push_back('"');
  }

  std::string Take() {
    text_.push_back('}');
    return std::move(text_);
  }

 private:
  void Separator() {
    if (text_.size() > 1) text_.push_back(',');
  }
  std::string text_;
};

// The ids that look like UUIDs as a uuid[] literal; nullopt when none does (a batch read of
// them has nothing to ask).
inline std::optional<std::string> UuidArray(const std::vector<std::string>& ids) {
  SqlArray array;
  bool any = false;
  for (const std::string& id : ids) {
    if (!LooksLikeUuid(id)) continue;
    array.AddText(id);
    any = true;
  }
  if (!any) return std::nullopt;
  return array.Take();
}

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_SQL_ARRAY_H_
