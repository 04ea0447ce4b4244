// Plain-text tables for people: columns padded to their widest cell, a header row in capitals.
#ifndef SHADOWPLANE_CLI_TABLE_H_
#define SHADOWPLANE_CLI_TABLE_H_

#include <string>
#include <vector>

namespace shadowplane::cli {

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
