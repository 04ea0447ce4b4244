// Status propagation macros, shaped like Abseil's later `status_macros.h` (our Abseil, 20220623,
// does not ship them).
//
//   RETURN_IF_ERROR(DoThing());                 // returns the status if it is not OK
//   ASSIGN_OR_RETURN(auto conn, pool.Acquire()); // declares/assigns the value or returns the error
#ifndef SHADOWPLANE_COMMON_STATUS_MACROS_H_
#define SHADOWPLANE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SP_STATUS_CONCAT_INNER_(a, b) a##b
#define SP_STATUS_CONCAT_(a, b) SP_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status sp_status_ = (expr);      \
    if (!sp_status_.ok()) return sp_status_; \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  SP_ASSIGN_OR_RETURN_IMPL_(SP_STATUS_CONCAT_(sp_statusor_, __LINE__), lhs, expr)

#define SP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)     \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SHADOWPLANE_COMMON_STATUS_MACROS_H_
