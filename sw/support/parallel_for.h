// The one parallel-for of the host code (no SystemC: never inside a simulation):
// the SWIS decomposition and scheduling (sw/contract/swis) and the accuracy runs of
// `cimvp swis` (sw/app/swis_job) use it; its even split of a range also cuts an
// MPI-parallel `cimvp run` into the ranks' shares (sw/app/run_job). Plain std::thread, the caller's thread
// among the workers; the first exception a body throws is rethrown after the join.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cimvp {

// Runs fn(i) for every i in [0, n) on up to `threads` threads (0: one per hardware
// thread, never more than n). Items are handed out in increasing order, one at a time,
// so items of uneven cost balance; fn must not depend on which thread runs it.
template <typename Fn>
void parallel_for(std::size_t n, Fn&& fn, unsigned threads = 0) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, n));
    if (threads <= 1) {
        for (std::size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        try {
            for (std::size_t i = next++; i < n; i = next++) fn(i);
        } catch (...) {
            next = n;  // the others stop at their next item
            const std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

// Part `part` (0 .. parts - 1) of [0, n) cut into `parts` contiguous ranges whose sizes differ by at
// most one, in order: the items [first, last) one of `parts` workers (threads, MPI ranks) takes.
struct ItemRange {
    int first = 0, last = 0;
};
inline ItemRange even_share(int n, int parts, int part) {
    const auto bound = [&](int p) {
        return static_cast<int>(static_cast<std::int64_t>(n) * static_cast<std::int64_t>(p) / parts);
    };
    return {bound(part), bound(part + 1)};
}

// Runs fn(first, last) over [0, n) cut into one contiguous range per thread, with as many
// threads as the work justifies (about kMinWorkPerThread units each, at most one per
// hardware thread): a loop whose total cost `work` is known up front.
template <typename Fn>
void parallel_ranges(int n, std::int64_t work, Fn&& fn) {
    constexpr std::int64_t kMinWorkPerThread = 1 << 16;
    int threads =
        static_cast<int>(std::min<std::int64_t>(std::thread::hardware_concurrency(), work / kMinWorkPerThread));
    threads = std::max(1, std::min(threads, n));
    parallel_for(
        static_cast<std::size_t>(threads),
        [&](std::size_t t) {
            const ItemRange r = even_share(n, threads, static_cast<int>(t));
            fn(r.first, r.last);
        },
        static_cast<unsigned>(threads));
}

}  // namespace cimvp
