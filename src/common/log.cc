#include "common/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace shadowplane {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetMinLogLevel(LogLevel level) { min_level.store(static_cast<int>(level)); }

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (lower == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void AppendJsonString(absl::string_view value, std::string* out) {
  out->push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

LogLine::LogLine(LogLevel level, absl::string_view message)
    : enabled_(static_cast<int>(level) >= min_level.load()) {
  if (!enabled_) return;
  // Log timestamps are real time: they say when the process did something, not domain time.
  absl::StrAppend(&text_, "{\"ts\":\"",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                  "\",\"level\":\"", LevelName(level), "\",\"msg\":");
  AppendJsonString(message, &text_);
}

LogLine::~LogLine() {
  if (!enabled_) return;
  text_.append("}\n");
  // One write() per line keeps concurrent lines whole (stderr is unbuffered, but iostream
  // would split a line into several writes).
  const char* p = text_.data();
  size_t left = text_.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogLine::Key(absl::string_view key) {
  text_.push_back(',');
  AppendJsonString(key, &text_);
  text_.push_back(':');
}

LogLine& LogLine::Field(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJsonString(value, &text_);
  return *this;
}

LogLine& LogLine::Field(absl::string_view key, bool value) {
  if (!enabled_) return *this;
  Key(key);
  text_.append(value ? "true" : "false");
  return *this;
}

LogLine& LogLine::Field(absl::string_view key, double value) {
  if (!enabled_) return *this;
  Key(key);
  absl::StrAppendFormat(&text_, "%.6g", value);
  return *this;
}

LogLine& LogLine::IntField(absl::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  absl::StrAppend(&text_, value);
  return *this;
}

LogLine& LogLine::Field(absl::string_view key, const absl::Status& status) {
  if (!enabled_) return *this;
  Key("code");
  AppendJsonString(absl::StatusCodeToString(status.code()), &text_);
  Key(key);
  AppendJsonString(status.message(), &text_);
  return *this;
}

LogLine& LogLine::Field(absl::string_view key, absl::Duration value) {
  return Field(key, absl::ToDoubleSeconds(value));
}

}  // namespace shadowplane
