#include "sw/app/logits_checker.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace cimvp {

namespace {

// Nice value of the checking thread (the lowest priority): where the cores are busy, the simulation
// it runs beside goes first, and the check catches up once the simulation is done.
constexpr int kCheckerNice = 19;

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

LogitsChecker::LogitsChecker(const NetworkReference* reference, const ImageSet& test, int classes,
                             Progress& progress)
    : reference_(reference), test_(test), classes_(classes), progress_(progress), thread_([this] { work(); }) {}

LogitsChecker::~LogitsChecker() { stop(); }

void LogitsChecker::submit(int first, std::vector<std::int64_t> logits) {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back({first, std::move(logits)});
    }
    wake_.notify_one();
}

LogitsChecker::Counts LogitsChecker::finish() {
    stop();
    if (error_) std::rethrow_exception(error_);
    return std::move(counts_);
}

void LogitsChecker::stop() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        done_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void LogitsChecker::work() {
    // Linux sets a thread's own nice value through its thread id (setpriority(2), NOTES).
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kCheckerNice);
    for (;;) {
        Batch b;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return done_ || !queue_.empty(); });
            if (queue_.empty()) return;
            b = std::move(queue_.front());
            queue_.pop_front();
        }
        if (error_) continue;
        try {
            check(b);
        } catch (...) {
            error_ = std::current_exception();
        }
    }
}

void LogitsChecker::check(const Batch& b) {
    counts_.logits.insert(counts_.logits.end(), b.logits.begin(), b.logits.end());
    const int n = static_cast<int>(b.logits.size() / static_cast<std::size_t>(classes_));
    const double t0 = thread_cpu_seconds();
    for (int i = 0; i < n; ++i) {
        const std::vector<std::int64_t> mine(b.logits.begin() + i * classes_, b.logits.begin() + (i + 1) * classes_);
        counts_.correct += argmax(mine) == test_.labels[b.first + i];
        const auto image = static_cast<std::uint64_t>(b.first + i);
        if (reference_) counts_.agree += reference_->logits(test_.image(b.first + i), image) == mine;
    }
    counts_.reference_s += thread_cpu_seconds() - t0;
    checked_ += n;
    char accuracy[48];
    std::snprintf(accuracy, sizeof accuracy, "accuracy %.2f%%", 100.0 * counts_.correct / std::max(1, checked_));
    progress_.update(checked_, accuracy);
}

}  // namespace cimvp
