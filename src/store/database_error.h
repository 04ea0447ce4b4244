// Maps libpqxx exceptions to absl::Status where they are caught, so that no exception crosses the
// store layer. Codes: broken connection -> UNAVAILABLE; unique violation -> ALREADY_EXISTS;
// foreign-key, not-null or check violation -> FAILED_PRECONDITION / INVALID_ARGUMENT;
// serialization failure or deadlock -> ABORTED (retriable); anything else -> INTERNAL.
#ifndef SHADOWPLANE_STORE_DATABASE_ERROR_H_
#define SHADOWPLANE_STORE_DATABASE_ERROR_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shadowplane::store {

// `context` says what was being done ("applying migration 0001_core.sql").
absl::Status StatusFromDatabaseError(const std::exception& e, absl::string_view context);

// Runs `fn` (returning absl::Status or absl::StatusOr<T>) and turns any exception it throws into
// a status via StatusFromDatabaseError.
template <typename Fn>
auto CatchDatabaseErrors(absl::string_view context, Fn&& fn) -> decltype(fn()) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    return StatusFromDatabaseError(e, context);
  }
}

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_DATABASE_ERROR_H_
