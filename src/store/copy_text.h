// Fields in PostgreSQL's COPY text format, appended to a buffer without temporary strings: the
// ingest path formats hundreds of thousands of rows a second, and per-field std::string
// conversions (what libpqxx's tuple streaming does) cost more than the database's own parsing.
#ifndef SHADOWPLANE_STORE_COPY_TEXT_H_
#define SHADOWPLANE_STORE_COPY_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane::store {

// Text with backslash, tab, newline and carriage return escaped.
void AppendCopyText(absl::string_view text, std::string* out);
// "\N".
void AppendCopyNull(std::string* out);
void AppendCopyInt(int64_t value, std::string* out);
// Shortest form that reads back as the same double.
void AppendCopyDouble(double value, std::string* out);
// "2026-11-29 19:26:06.123456+00" (UTC, microseconds).
void AppendCopyTime(absl::Time t, std::string* out);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_COPY_TEXT_H_
