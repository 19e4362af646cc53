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
// it runs beside goes first; once the simulation is done, finish() checks beside it.
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
        Batch b;
        b.first = first;
        const auto n = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(logits.size()) / classes_);
        b.logits = std::move(logits);
        b.correct.assign(n, 0);
        b.agree.assign(n, 0);
        b.unchecked = static_cast<int>(n);
        batches_.push_back(std::move(b));
    }
    wake_.notify_one();
}

LogitsChecker::Counts LogitsChecker::finish() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        done_ = true;
    }
    wake_.notify_one();
    check_all(false);  // beside the checker's thread, at this thread's priority
    stop();
    if (error_) std::rethrow_exception(error_);
    Counts counts;
    counts.reference_s = reference_s_;
    for (const Batch& b : batches_) {
        counts.logits.insert(counts.logits.end(), b.logits.begin(), b.logits.end());
        for (std::size_t i = 0; i < b.correct.size(); ++i) {
            counts.correct += b.correct[i];
            counts.agree += b.agree[i];
        }
    }
    return counts;
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
    check_all(true);
}

void LogitsChecker::check_all(bool wait) {
    for (Claim c; claim(c, wait);) {
        try {
            check(c);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }
}

bool LogitsChecker::claim(Claim& c, bool wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    // A batch of no images has nothing to claim.
    while (next_batch_ < batches_.size() && batches_[next_batch_].unchecked == 0) ++next_batch_;
    if (wait) wake_.wait(lock, [&] { return done_ || error_ || next_batch_ < batches_.size(); });
    if (error_ || next_batch_ >= batches_.size()) return false;
    c = {&batches_[next_batch_], next_image_};
    if (++next_image_ == static_cast<int>(c.b->correct.size())) {
        ++next_batch_;
        next_image_ = 0;
    }
    return true;
}

void LogitsChecker::check(const Claim& c) {
    // The claimed image's slots are this thread's alone; the deque keeps the batch in place.
    Batch& b = *c.b;
    const double t0 = thread_cpu_seconds();
    const auto at = b.logits.begin() + c.i * classes_;
    const std::vector<std::int64_t> mine(at, at + classes_);
    const int image = b.first + c.i;
    b.correct[static_cast<std::size_t>(c.i)] = argmax(mine) == test_.label(image);
    if (reference_)
        b.agree[static_cast<std::size_t>(c.i)] = reference_->logits(test_.image(image), static_cast<std::uint64_t>(image)) == mine;
    const double spent = thread_cpu_seconds() - t0;
    const std::lock_guard<std::mutex> lock(mutex_);
    reference_s_ += spent;
    ++checked_;
    correct_ += b.correct[static_cast<std::size_t>(c.i)];
    // The progress line whenever a batch is checked: the last one shows every image.
    if (--b.unchecked == 0) {
        char accuracy[48];
        std::snprintf(accuracy, sizeof accuracy, "accuracy %.2f%%", 100.0 * correct_ / std::max(1, checked_));
        progress_.update(checked_, accuracy);
    }
}

}  // namespace cimvp
