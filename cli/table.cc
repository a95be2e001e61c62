#include "table.h"

#include <algorithm>
#include <sstream>

namespace lms::cli {
namespace {

std::vector<std::string> lines_of(const std::string& cell) {
  std::vector<std::string> out;
  std::stringstream in(cell);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  if (out.empty()) out.emplace_back();
  return out;
}

std::string centered(const std::string& text, size_t width) {
  const size_t left = (width - text.size()) / 2;
  return std::string(left, ' ') + text + std::string(width - text.size() - left, ' ');
}

}  // namespace

std::string Table::render() const {
  std::vector<size_t> widths(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < widths.size() && c < row.size(); ++c) {
      for (const auto& line : lines_of(row[c])) widths[c] = std::max(widths[c], line.size());
    }
  }
  std::string rule = "+";
  for (const size_t w : widths) rule += std::string(w + 2, '-') + "+";
  rule += "\n";
  std::string out = rule + "|";
  for (size_t c = 0; c < header_.size(); ++c) {
    out += ' ';  // appended piece by piece: `" " + centered(...)` trips GCC 12's -Wrestrict at -O3
    out += centered(header_[c], widths[c]);
    out += " |";
  }
  out += "\n" + rule;
  for (const auto& row : rows_) {
    std::vector<std::vector<std::string>> cells;
    size_t height = 1;
    for (size_t c = 0; c < widths.size(); ++c) {
      cells.push_back(lines_of(c < row.size() ? row[c] : ""));
      height = std::max(height, cells.back().size());
    }
    for (size_t l = 0; l < height; ++l) {
      out += "|";
      for (size_t c = 0; c < widths.size(); ++c) {
        const std::string text = l < cells[c].size() ? cells[c][l] : "";
        out += " " + text + std::string(widths[c] - text.size(), ' ') + " |";
      }
      out += "\n";
    }
  }
  return out + rule;
}

std::string time_cell(const std::string& formatted) {
  // The zone goes to a second line: "... 19:10:06.991048" / "+0000 UTC".
  const size_t zone = formatted.find(" +");
  if (zone == std::string::npos) return formatted;
  return formatted.substr(0, zone) + "\n" + formatted.substr(zone + 1);
}

}  // namespace lms::cli
