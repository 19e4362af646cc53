#include "sw/app/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cimvp {

Progress::Progress(bool on, int total, std::string unit)
    : on_(on), tty_(isatty(STDERR_FILENO) != 0), total_(total), unit_(std::move(unit)), t0_(Clock::now()) {}

void Progress::update(int done, const std::string& detail) {
    if (!on_) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    const double rate = done / std::max(1e-9, std::chrono::duration<double>(Clock::now() - t0_).count());
    char line[256];
    if (tty_) {
        constexpr int kWidth = 30;
        const int fill = total_ ? std::min(done, total_) * kWidth / total_ : kWidth;
        const std::string shown = detail.empty() ? "" : "  " + detail;
        int n = std::snprintf(line, sizeof line, "[%s%s] %d/%d %s%s  %.0f %s/s", std::string(fill, '#').c_str(),
                              std::string(kWidth - fill, '.').c_str(), done, total_, unit_.c_str(), shown.c_str(),
                              rate, unit_.c_str());
        const std::size_t width = static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof line) - 1));
        std::fprintf(stderr, "\r%s%s", line, std::string(last_width_ > width ? last_width_ - width : 0, ' ').c_str());
        last_width_ = width;
        if (done == total_) std::fputc('\n', stderr);
    } else if (done == total_ || done * 10 / std::max(1, total_) != last_decile_) {
        last_decile_ = done * 10 / std::max(1, total_);
        // no empty field when there is no detail ("3/7 accuracy runs, 17 accuracy runs/s")
        const std::string shown = detail.empty() ? "" : ", " + detail;
        std::fprintf(stderr, "%d/%d %s%s, %.0f %s/s\n", done, total_, unit_.c_str(), shown.c_str(), rate,
                     unit_.c_str());
    }
    std::fflush(stderr);
}

}  // namespace cimvp
