// COPY ... FROM STDIN in PostgreSQL's binary format, and statements with binary results, through
// libpq on a libpqxx transaction's connection. The ingest path stores hundreds of thousands of rows
// a second, and the text format makes the server parse every timestamp, address, UUID and number
// back from text; in binary it copies them. libpqxx 6.4 streams text only, so this goes to libpq
// (the library under libpqxx, used here and nowhere else outside store/).
//
// Fields are written in the order of `columns`; each row must have every field. Values are as the
// server's binary input functions take them: int8 and float8 big-endian, timestamptz as
// microseconds since 2000-01-01 UTC, uuid as 16 bytes, inet as family, bits, is_cidr, length and
// the address bytes, text as its bytes (the server checks the encoding).
#ifndef SHADOWPLANE_STORE_COPY_BINARY_H_
#define SHADOWPLANE_STORE_COPY_BINARY_H_

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane::store {

// Encoders for one field each, appended to `out` with their length word; they throw
// pqxx::data_exception for text that is not a value of the type (nothing is sent then).
void AppendBinaryNull(std::string* out);
void AppendBinaryText(absl::string_view text, std::string* out);
void AppendBinaryInt64(int64_t value, std::string* out);
void AppendBinaryFloat64(double value, std::string* out);
void AppendBinaryTime(absl::Time t, std::string* out);
void AppendBinaryUuid(absl::string_view text, std::string* out);  // 8-4-4-4-12 hex digits
void AppendBinaryInet(absl::string_view text, std::string* out);  // an IPv4 or IPv6 address

// Creates, unless this session has it, the temporary table `name` (`columns`: its SQL column
// list) that empties at every commit: where a BinaryCopy stages rows to be merged by one statement.
// The notice that it already exists is silenced.
void EnsureStagingTable(pqxx::dbtransaction& txn, const std::string& name,
                        const std::string& columns);

// One COPY in binary format on `txn`'s connection, open from construction to Complete().
// Destroyed before Complete() (an exception while rows were written), it ends the COPY with an
// error, so the transaction fails as a whole and the connection stays usable for its rollback.
class BinaryCopy {
 public:
  // Starts `COPY table (columns) FROM STDIN (FORMAT binary)`; throws pqxx::sql_error when the
  // server refuses it.
  BinaryCopy(pqxx::dbtransaction& txn, const std::string& table,
             const std::vector<std::string>& columns);
  ~BinaryCopy();
  BinaryCopy(const BinaryCopy&) = delete;
  BinaryCopy& operator=(const BinaryCopy&) = delete;

  // Starts a row: the caller appends exactly one field per column to the returned buffer.
  std::string* BeginRow();
  // Sends what was written, and ends the COPY; throws pqxx::sql_error (with the server's
  // SQLSTATE) if the server refuses a row.
  void Complete();

 private:
  void Send();

  struct pg_conn* const conn_;
  const int16_t columns_;
  std::string buffer_;
  bool done_ = false;
};

// A statement run on `txn`'s connection whose results come back in binary format: bytea as its
// bytes (not hex text, twice the size and decoded here), bigint as eight bytes. Parameters are
// text. Throws pqxx::sql_error (with the server's SQLSTATE) when the statement fails.
class BinaryResult {
 public:
  BinaryResult(pqxx::dbtransaction& txn, const std::string& sql,
               const std::vector<std::string>& text_params);
  ~BinaryResult();
  BinaryResult(const BinaryResult&) = delete;
  BinaryResult& operator=(const BinaryResult&) = delete;

  int rows() const;
  bool IsNull(int row, int column) const;
  // The field's bytes (a bytea's content).
  absl::string_view Bytes(int row, int column) const;
  // A bigint field; throws pqxx::data_exception when the field is not eight bytes.
  int64_t Int64(int row, int column) const;

 private:
  struct pg_result* result_ = nullptr;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_COPY_BINARY_H_
