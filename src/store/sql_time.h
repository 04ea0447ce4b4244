// Timestamps to and from PostgreSQL. libpqxx 6.4 has no timestamptz type, so a timestamp travels
// as RFC 3339 UTC text with microseconds: written with ToSqlTime() (PostgreSQL parses it into a
// timestamptz), read with SP_SQL_UTC in the query and FromSqlTime() on the text.
#ifndef SHADOWPLANE_STORE_SQL_TIME_H_
#define SHADOWPLANE_STORE_SQL_TIME_H_

#include <string>

#include "absl/time/time.h"

// The SQL expression that reads the timestamptz `column` (a string literal) as the text
// FromSqlTime() parses. Macros, so that a query built from them stays one string literal.
#define SP_SQL_UTC_FORMAT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
#define SP_SQL_UTC(column) "to_char(" column " AT TIME ZONE 'UTC', " SP_SQL_UTC_FORMAT ")"

namespace shadowplane::store {

// "2026-12-05T13:11:05.123456Z".
std::string ToSqlTime(absl::Time t);
// The time of text read through SP_SQL_UTC; the Unix epoch for text it cannot parse (a NULL
// column read as "" included).
absl::Time FromSqlTime(const std::string& text);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_SQL_TIME_H_
