#include "store/copy_text.h"

#include <charconv>

namespace shadowplane::store {

void AppendCopyText(absl::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendCopyNull(std::string* out) { out->append("\\N"); }

void AppendCopyInt(int64_t value, std::string* out) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  out->append(buffer, end);
}

void AppendCopyDouble(double value, std::string* out) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  out->append(buffer, end);
}

namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm, proleptic Gregorian).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void Digits(unsigned value, int width, char* at) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void AppendCopyTime(absl::Time t, std::string* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t days = micros / 86'400'000'000;
  int64_t rest = micros % 86'400'000'000;
  if (rest < 0) {
    rest += 86'400'000'000;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 1 || year > 9999) {  // outside what the fixed layout below holds
    out->append(absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone()));
    return;
  }
  const unsigned seconds_of_day = static_cast<unsigned>(rest / 1'000'000);
  char b[29];  // YYYY-MM-DD HH:MM:SS.ffffff+00
  Digits(static_cast<unsigned>(year), 4, b);
  b[4] = '-';
  Digits(month, 2, b + 5);
  b[7] = '-';
  Digits(day, 2, b + 8);
  b[10] = ' ';
  Digits(seconds_of_day / 3600, 2, b + 11);
  b[13] = ':';
  Digits(seconds_of_day / 60 % 60, 2, b + 14);
  b[16] = ':';
  Digits(seconds_of_day % 60, 2, b + 17);
  b[19] = '.';
  Digits(static_cast<unsigned>(rest % 1'000'000), 6, b + 20);
  b[26] = '+';
  b[27] = '0';
  b[28] = '0';
  out->append(b, sizeof(b));
}

}  // namespace shadowplane::store
