// The one progress display of the application (`cimvp run`, `cimvp swis`), on stderr:
// on a terminal a bar redrawn in place, otherwise a line at every tenth of the work.
// Safe to update from several threads.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace cimvp {

class Progress {
public:
    // unit: what is counted ("images", "layers"); off: update does nothing.
    Progress(bool on, int total, std::string unit);
    // `done` of the total are finished; `detail` follows the count (e.g. the accuracy so far).
    void update(int done, const std::string& detail = "");

private:
    using Clock = std::chrono::steady_clock;
    bool on_, tty_;
    int total_;
    std::string unit_;
    Clock::time_point t0_;
    int last_decile_ = 0;
    std::size_t last_width_ = 0;  // of the bar line, to blank a longer one before
    std::mutex mutex_;
};

}  // namespace cimvp
