// printf into a std::string (sw/support/text_format.h): the whole text at any length, numbers as typed.
#include <gtest/gtest.h>

#include <string>

#include "sw/support/text_format.h"

namespace cimvp {
namespace {

TEST(TextFormat, TextLongerThanTheFirstBufferComesBackWhole) {
    const std::string word(1000, 'w');
    const std::string got = format_text("<%s|%d>", word.c_str(), 42);
    EXPECT_EQ(got.size(), word.size() + 5);
    EXPECT_EQ(got, "<" + word + "|42>");
}

TEST(TextFormat, TextAtTheFirstBuffersEdgeComesBackWhole) {
    for (std::size_t n : {254u, 255u, 256u, 257u}) {
        const std::string word(n, 'e');
        EXPECT_EQ(format_text("%s", word.c_str()), word) << n << " characters";
    }
}

TEST(TextFormat, ShortTextIsExact) {
    EXPECT_EQ(format_text("%.2f V, %s", 0.9, "ok"), "0.90 V, ok");
    EXPECT_EQ(format_text("%s", ""), "");
}

TEST(TextFormat, NumberReadsAsTyped) {
    EXPECT_EQ(format_number(2.0), "2");
    EXPECT_EQ(format_number(2.5), "2.5");
    EXPECT_EQ(format_number(0.001), "0.001");
    EXPECT_EQ(format_number(1e6), "1e+06");
    EXPECT_EQ(format_number(-0.25), "-0.25");
}

}  // namespace
}  // namespace cimvp
