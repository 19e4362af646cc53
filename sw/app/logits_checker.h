// Checks the platform's logits of `cimvp run` batch by batch on a thread of its own while the
// simulation goes on, so that nothing but the network runs in the simulated host CPU's thread:
// the accuracy against the labels, the agreement with the C++ reference evaluating the same
// plan (when given one), every logit kept in image order (for the run's digest), and the progress line.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sw/app/progress.h"
#include "sw/formats/idx_dataset.h"
#include "sw/reference/network_reference.h"

namespace cimvp {

class LogitsChecker {
public:
    struct Counts {
        int correct = 0, agree = 0;
        std::vector<std::int64_t> logits;  // of every image checked, in image order (images x classes)
        double reference_s = 0;  // the check's CPU time (its thread yields to the simulation: not its wall time)
    };

    // reference: null when the logits are not to be compared. test and progress outlive the checker,
    // which counts the images it checked against the progress display's total.
    LogitsChecker(const NetworkReference* reference, const ImageSet& test, int classes, Progress& progress);
    ~LogitsChecker();
    LogitsChecker(const LogitsChecker&) = delete;
    LogitsChecker& operator=(const LogitsChecker&) = delete;

    // The logits (n x classes) of the images first, first + 1, ... of `test`; batches in image order.
    void submit(int first, std::vector<std::int64_t> logits);
    // Waits until every submitted batch is checked; rethrows what the check threw.
    Counts finish();

private:
    struct Batch {
        int first = 0;
        std::vector<std::int64_t> logits;
    };

    void stop();
    void work();
    void check(const Batch& b);

    const NetworkReference* reference_;
    const ImageSet& test_;
    std::ptrdiff_t classes_;
    Progress& progress_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Batch> queue_;
    bool done_ = false;
    std::exception_ptr error_;
    Counts counts_;
    int checked_ = 0;  // images
    std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace cimvp
