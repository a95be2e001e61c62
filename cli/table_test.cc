#include "table.h"

#include <gtest/gtest.h>

namespace lms::cli {
namespace {

TEST(Table, BoxesCellsOfSeveralLines) {
  Table t({"A", "TIME"});
  t.add({"x", time_cell("2024-02-15 19:10:06.991048 +0000 UTC")});
  t.add({"longer", ""});
  EXPECT_EQ(t.render(),
            "+--------+----------------------------+\n"
            "|   A    |            TIME            |\n"
            "+--------+----------------------------+\n"
            "| x      | 2024-02-15 19:10:06.991048 |\n"
            "|        | +0000 UTC                  |\n"
            "| longer |                            |\n"
            "+--------+----------------------------+\n");
}

TEST(Table, AnEmptyTableIsItsHeader) {
  EXPECT_EQ(Table({"ONE"}).render(), "+-----+\n| ONE |\n+-----+\n+-----+\n");
}

}  // namespace
}  // namespace lms::cli
