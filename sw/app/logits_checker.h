// Checks the platform's logits of `cimvp run` image by image on a thread of its own while the
// simulation goes on, so that nothing but the network runs in the simulated host CPU's thread:
// the accuracy against the labels, the agreement with the C++ reference evaluating the same
// plan (when given one), every logit kept in image order (for the run's digest), and the progress line.
// The thread runs at the lowest priority; once the simulation is done, the caller's thread checks
// what is left beside it (finish), so a run on a busy machine does not wait for a starved thread.
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
    // Checks what is left with the calling thread beside the checker's, until every submitted image is
    // checked; rethrows what the check threw.
    Counts finish();

private:
    struct Batch {
        int first = 0;
        std::vector<std::int64_t> logits;
        std::vector<char> correct, agree;  // per image, written by whichever thread checked it
        int unchecked = 0;                 // images
    };
    // An image to check: image i of batch b (in batches_, where it stays as batches come).
    struct Claim {
        Batch* b = nullptr;
        int i = 0;
    };

    void stop();
    void work();
    // The next unchecked image; false when there is none (and, with wait, none will come).
    bool claim(Claim& c, bool wait);
    // Checks the claimed image, then counts it.
    void check(const Claim& c);
    void check_all(bool wait);

    const NetworkReference* reference_;
    const ImageSet& test_;
    std::ptrdiff_t classes_;
    Progress& progress_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Batch> batches_;  // every batch submitted, in image order (a deque: elements never move)
    std::size_t next_batch_ = 0;  // the next image to claim: image next_image_ of batches_[next_batch_]
    int next_image_ = 0;
    bool done_ = false;          // no more batches come
    std::exception_ptr error_;
    int checked_ = 0, correct_ = 0;  // images, for the progress line
    double reference_s_ = 0;
    std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace cimvp
