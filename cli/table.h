// The tables lms-cli prints: a header row and rows of cells, where a cell may hold several lines
// (a time and its zone), boxed with +, - and |.
#pragma once

#include <string>
#include <vector>

namespace lms::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "2024-02-15 19:10:06.991048 +0000 UTC" → two lines, as the documentation's tables show times.
std::string time_cell(const std::string& formatted);

}  // namespace lms::cli
