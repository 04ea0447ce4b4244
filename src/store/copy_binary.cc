#include "store/copy_binary.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hex_digit.h"

namespace shadowplane::store {

namespace {

constexpr size_t kSendBytes = 1 << 20;
// PostgreSQL's epoch for timestamps: 2000-01-01 00:00:00 UTC, in Unix microseconds.
constexpr int64_t kPostgresEpochMicros = 946'684'800'000'000;
// inet's address families as PostgreSQL's binary format names them (utils/inet.h).
constexpr char kPgsqlAfInet = 2;
constexpr char kPgsqlAfInet6 = 3;

void Append32(uint32_t v, std::string* out) {
  const uint32_t big = htobe32(v);
  out->append(reinterpret_cast<const char*>(&big), 4);
}
void Append16(uint16_t v, std::string* out) {
  const uint16_t big = htobe16(v);
  out->append(reinterpret_cast<const char*>(&big), 2);
}
void Append64(uint64_t v, std::string* out) {
  const uint64_t big = htobe64(v);
  out->append(reinterpret_cast<const char*>(&big), 8);
}

// The largest libpqxx exposes of a connection: a protected accessor of pqxx::largeobject (there
// is no public one in 6.4), reached the way it is meant to be, from a class derived from it.
class RawConnection : public pqxx::largeobject {
 public:
  static PGconn* Of(const pqxx::dbtransaction& txn) { return largeobject::raw_connection(txn); }
};

// Throws the server's error of `result` (null: the connection's), with its SQLSTATE so that
// database_error.h maps it like any other.
[[noreturn]] void ThrowServerError(PGconn* conn, PGresult* result, const std::string& what) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  if (result != nullptr) PQclear(result);
  if (PQstatus(conn) == CONNECTION_BAD) throw pqxx::broken_connection(message);
  // The classes libpqxx throws for the same states, which database_error.h tells apart.
  const std::string text = absl::StrCat(what, ": ", message);
  const char* s = sqlstate.empty() ? nullptr : sqlstate.c_str();
  if (sqlstate == "23505") throw pqxx::unique_violation(text, what, s);
  if (sqlstate == "23503") throw pqxx::foreign_key_violation(text, what, s);
  if (sqlstate == "23502") throw pqxx::not_null_violation(text, what, s);
  if (sqlstate == "23514") throw pqxx::check_violation(text, what, s);
  if (sqlstate == "40001") throw pqxx::serialization_failure(text);
  if (sqlstate == "40P01") throw pqxx::deadlock_detected(text);
  throw pqxx::sql_error(text, what, s);
}

}  // namespace

void AppendBinaryNull(std::string* out) { Append32(0xFFFFFFFFu, out); }

void AppendBinaryText(absl::string_view text, std::string* out) {
  if (text.size() > 0x3FFFFFFF) throw pqxx::data_exception("text field over 1 GiB");
  Append32(static_cast<uint32_t>(text.size()), out);
  out->append(text.data(), text.size());
}

void AppendBinaryInt64(int64_t value, std::string* out) {
  Append32(8, out);
  Append64(static_cast<uint64_t>(value), out);
}

void AppendBinaryFloat64(double value, std::string* out) {
  uint64_t bits;
  static_assert(sizeof(bits) == sizeof(value));
  std::memcpy(&bits, &value, sizeof(bits));
  Append32(8, out);
  Append64(bits, out);
}

void AppendBinaryTime(absl::Time t, std::string* out) {
  // Whole microseconds toward the past, as the text form (copy_text.h) writes them.
  AppendBinaryInt64(absl::ToUnixMicros(t) - kPostgresEpochMicros, out);
}

void AppendBinaryUuid(absl::string_view text, std::string* out) {
  unsigned char bytes[16];
  size_t n = 0;
  bool ok = text.size() == 36;
  for (size_t i = 0; ok && i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok = text[i] == '-';
      continue;
    }
    const int high = HexDigitValue(text[i]);
    const int low = ++i < text.size() ? HexDigitValue(text[i]) : -1;
    ok = high >= 0 && low >= 0;
    if (ok) bytes[n++] = static_cast<unsigned char>(high << 4 | low);
  }
  if (!ok || n != 16) {
    throw pqxx::data_exception(
        absl::StrCat("not a UUID: \"", absl::CEscape(text.substr(0, 64)), "\""));
  }
  Append32(16, out);
  out->append(reinterpret_cast<const char*>(bytes), 16);
}

void AppendBinaryInet(absl::string_view text, std::string* out) {
  unsigned char addr[16];
  char family = 0;
  // inet_pton needs a terminated string; an address is at most 45 characters.
  char terminated[64];
  if (text.size() < sizeof(terminated)) {
    std::memcpy(terminated, text.data(), text.size());
    terminated[text.size()] = '\0';
    if (inet_pton(AF_INET, terminated, addr) == 1) {
      family = kPgsqlAfInet;
    } else if (inet_pton(AF_INET6, terminated, addr) == 1) {
      family = kPgsqlAfInet6;
    }
  }
  if (family == 0) {
    throw pqxx::data_exception(
        absl::StrCat("not an IP address: \"", absl::CEscape(text.substr(0, 64)), "\""));
  }
  const bool v4 = family == kPgsqlAfInet;
  const unsigned char length = v4 ? 4 : 16;
  Append32(4 + length, out);
  out->push_back(family);
  out->push_back(static_cast<char>(v4 ? 32 : 128));  // bits: a host address
  out->push_back(0);                                 // is_cidr
  out->push_back(static_cast<char>(length));
  out->append(reinterpret_cast<const char*>(addr), length);
}

void EnsureStagingTable(pqxx::dbtransaction& txn, const std::string& name,
                        const std::string& columns) {
  txn.exec(absl::StrCat("SET LOCAL client_min_messages = warning; CREATE TEMP TABLE IF NOT EXISTS ",
                        txn.quote_name(name), " (", columns, ") ON COMMIT DELETE ROWS"));
}

BinaryCopy::BinaryCopy(pqxx::dbtransaction& txn, const std::string& table,
                       const std::vector<std::string>& columns)
    : conn_(RawConnection::Of(txn)), columns_(static_cast<int16_t>(columns.size())) {
  std::vector<std::string> quoted;
  for (const std::string& c : columns) quoted.push_back(txn.quote_name(c));
  const std::string sql = absl::StrCat("COPY ", txn.quote_name(table), " (",
                                       absl::StrJoin(quoted, ", "), ") FROM STDIN (FORMAT binary)");
  PGresult* started = PQexec(conn_, sql.c_str());
  if (started == nullptr || PQresultStatus(started) != PGRES_COPY_IN) {
    done_ = true;
    ThrowServerError(conn_, started, absl::StrCat("starting COPY into ", table));
  }
  PQclear(started);
  buffer_.reserve(kSendBytes + 4096);
  // Signature, flags (no OIDs), header extension length.
  buffer_.append("PGCOPY\n\377\r\n\0", 11);
  Append32(0, &buffer_);
  Append32(0, &buffer_);
}

BinaryCopy::~BinaryCopy() {
  if (done_) return;
  // Ends the COPY with an error: the server aborts the transaction, the caller's exception
  // continues, and the connection is ready for the rollback.
  if (PQputCopyEnd(conn_, "the client abandoned the COPY") == 1) {
    while (PGresult* r = PQgetResult(conn_)) PQclear(r);
  }
}

std::string* BinaryCopy::BeginRow() {
  if (buffer_.size() >= kSendBytes) Send();
  Append16(static_cast<uint16_t>(columns_), &buffer_);
  return &buffer_;
}

void BinaryCopy::Send() {
  if (buffer_.empty()) return;
  if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    ThrowServerError(conn_, nullptr, "sending COPY data");
  }
  buffer_.clear();
}

void BinaryCopy::Complete() {
  Append16(0xFFFF, &buffer_);  // the trailer: a field count of -1
  Send();
  done_ = true;
  if (PQputCopyEnd(conn_, nullptr) != 1) ThrowServerError(conn_, nullptr, "ending COPY");
  PGresult* failed = nullptr;
  while (PGresult* r = PQgetResult(conn_)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && failed == nullptr) {
      failed = r;
    } else {
      PQclear(r);
    }
  }
  if (failed != nullptr) ThrowServerError(conn_, failed, "COPY");
}

BinaryResult::BinaryResult(pqxx::dbtransaction& txn, const std::string& sql,
                           const std::vector<std::string>& text_params) {
  PGconn* conn = RawConnection::Of(txn);
  std::vector<const char*> values;
  for (const std::string& p : text_params) values.push_back(p.c_str());
  result_ = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, /*resultFormat=*/1);
  if (result_ == nullptr || PQresultStatus(result_) != PGRES_TUPLES_OK) {
    PGresult* failed = std::exchange(result_, nullptr);
    ThrowServerError(conn, failed, "a query with binary results");
  }
}

BinaryResult::~BinaryResult() {
  if (result_ != nullptr) PQclear(result_);
}

int BinaryResult::rows() const { return PQntuples(result_); }

bool BinaryResult::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) == 1;
}

absl::string_view BinaryResult::Bytes(int row, int column) const {
  return absl::string_view(PQgetvalue(result_, row, column),
                           static_cast<size_t>(PQgetlength(result_, row, column)));
}

int64_t BinaryResult::Int64(int row, int column) const {
  const absl::string_view bytes = Bytes(row, column);
  if (bytes.size() != 8) throw pqxx::data_exception("a bigint result that is not eight bytes");
  uint64_t big;
  std::memcpy(&big, bytes.data(), 8);
  return static_cast<int64_t>(be64toh(big));
}

}  // namespace shadowplane::store
