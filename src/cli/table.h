// Plain-text tables for people: columns padded to their widest cell, a header row in capitals.
#ifndef SHADOWPLANE_CLI_TABLE_H_
#define SHADOWPLANE_CLI_TABLE_H_

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

namespace shadowplane::cli {

// "2026-12-06 14:05" in UTC, for a table's cell.
std::string TimeText(const google::protobuf::Timestamp& t);

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_TABLE_H_
