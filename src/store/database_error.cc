#include "store/database_error.h"

#include <pqxx/except>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shadowplane::store {

absl::Status StatusFromDatabaseError(const std::exception& e, absl::string_view context) {
  const std::string message =
      absl::StrCat(context, ": ", absl::StripTrailingAsciiWhitespace(e.what()));
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(message);
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return absl::AlreadyExistsError(message);
  }
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr) {
    return absl::FailedPreconditionError(message);
  }
  if (dynamic_cast<const pqxx::not_null_violation*>(&e) != nullptr ||
      dynamic_cast<const pqxx::check_violation*>(&e) != nullptr) {
    return absl::InvalidArgumentError(message);
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(message);
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    // Class 08 is connection exceptions, 57P0x the server shutting down: both retriable.
    const std::string& state = sql->sqlstate();
    if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P0")) {
      return absl::UnavailableError(message);
    }
    return absl::InternalError(absl::StrCat(message, " (SQLSTATE ", state, ")"));
  }
  return absl::InternalError(message);
}

}  // namespace shadowplane::store
