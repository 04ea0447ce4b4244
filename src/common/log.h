// Structured logs: one JSON object per line on stderr, so that log shippers can index fields.
//
//   LOG_EVENT(kWarning, "database unreachable").Field("attempt", n).Field("error", status);
//
// The line is written when the temporary goes out of scope, in one write(), so lines from
// concurrent threads never interleave. Thread-safe.
#ifndef SHADOWPLANE_COMMON_LOG_H_
#define SHADOWPLANE_COMMON_LOG_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
// Parses "debug", "info", "warning", "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view message);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Field(absl::string_view key, absl::string_view value);
  LogLine& Field(absl::string_view key, const char* value) {
    return Field(key, absl::string_view(value));
  }
  LogLine& Field(absl::string_view key, const std::string& value) {
    return Field(key, absl::string_view(value));
  }
  LogLine& Field(absl::string_view key, bool value);
  LogLine& Field(absl::string_view key, double value);
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int>>>
  LogLine& Field(absl::string_view key, Int value) {
    return IntField(key, static_cast<int64_t>(value));
  }
  // An error's code and message, as "code" and `key`.
  LogLine& Field(absl::string_view key, const absl::Status& status);
  // Written in seconds; name the key accordingly ("elapsed_seconds").
  LogLine& Field(absl::string_view key, absl::Duration value);

 private:
  LogLine& IntField(absl::string_view key, int64_t value);
  void Key(absl::string_view key);

  bool enabled_;
  std::string text_;
};

// Appends `value` to `out` as a JSON string literal, quotes included.
void AppendJsonString(absl::string_view value, std::string* out);

}  // namespace shadowplane

#define LOG_EVENT(level, message) ::shadowplane::LogLine(::shadowplane::LogLevel::level, message)

#endif  // SHADOWPLANE_COMMON_LOG_H_
