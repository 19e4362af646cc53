// printf into a std::string, for the host code's messages and reports (no SystemC, header only):
// the cost model's breakdown lines, the config loader's range messages and `cimvp swis`'s report
// spell their numbers through it.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

namespace cimvp {

std::string format_text(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The whole text, however long (a second pass when the first buffer was short).
inline std::string format_text(const char* format, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, format);
    va_list again;
    va_copy(again, ap);
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    va_end(ap);
    std::string out;
    if (n < 0) {
        out = "<format error>";
    } else if (static_cast<std::size_t>(n) < sizeof buf) {
        out.assign(buf, static_cast<std::size_t>(n));
    } else {
        out.resize(static_cast<std::size_t>(n) + 1);
        std::vsnprintf(&out[0], out.size(), format, again);
        out.resize(static_cast<std::size_t>(n));
    }
    va_end(again);
    return out;
}

// A number as a reader types it ("%g": 2, 2.5, 0.001, 1e+06).
inline std::string format_number(double v) { return format_text("%g", v); }

}  // namespace cimvp
