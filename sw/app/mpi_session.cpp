#include "sw/app/mpi_session.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <thread>

#ifdef CIMVP_HAVE_MPI
#include <mpi.h>
#endif

namespace cimvp::cli {

namespace {

const MpiSession* g_current = nullptr;

// The size of the job an MPI launcher started this process in: Open MPI's mpirun, Hydra (MPICH) and
// PMI-based launchers (srun --mpi) say so in the environment; 0 when none did.
int launched_size() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
        if (const char* s = std::getenv(v)) return std::max(1, std::atoi(s));
    return std::getenv("PMIX_RANK") ? 1 : 0;
}

// What a rank hands in: a first byte saying whether the rest is its result or its error message.
constexpr char kResult = 1, kError = 0;

}  // namespace

#ifdef CIMVP_HAVE_MPI

namespace {

// Waits for a nonblocking collective, asleep between tests: a rank that is done waits for the others
// without the busy polling of a blocking collective, which would take a core from the ranks still
// simulating wherever there are fewer cores than processes.
void wait_asleep(MPI_Request& request) {
    for (int done = 0;;) {
        MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (done) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace

MpiSession::MpiSession() {
    if (launched_size() > 0) {
        int provided = 0;
        // Only the main thread calls MPI; the run's checker thread never does.
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        started_ = true;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    g_current = this;
}

MpiSession::~MpiSession() {
    if (g_current == this) g_current = nullptr;
    if (!started_) return;
    // MPI_Finalize synchronizes the ranks, busily: wait for rank 0's report asleep first.
    MPI_Request barrier;
    MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
    wait_asleep(barrier);
    MPI_Finalize();
}

std::vector<std::string> MpiSession::exchange(const std::string& mine) const {
    const int n = static_cast<int>(mine.size());
    std::vector<int> sizes(root() ? static_cast<std::size_t>(size_) : 0), offsets(sizes.size());
    MPI_Request request;
    MPI_Igather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
    wait_asleep(request);
    long long total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
        offsets[r] = static_cast<int>(std::min<long long>(total, INT_MAX));
        total += sizes[r];
    }
    // Offsets past 2 GiB do not fit MPI_Gatherv's: the job cannot go on.
    if (total > INT_MAX) MPI_Abort(MPI_COMM_WORLD, 2);
    std::string all(static_cast<std::size_t>(total), '\0');
    MPI_Igatherv(mine.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD,
                 &request);
    wait_asleep(request);
    std::vector<std::string> parts;
    for (std::size_t r = 0; r < sizes.size(); ++r)
        parts.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
    return parts;
}

#else

MpiSession::MpiSession() {
    const int n = launched_size();
    if (n > 1)
        throw std::runtime_error("started as one of " + std::to_string(n) +
                                 " MPI ranks, but this cimvp was built without MPI (CIMVP_WITH_MPI, docs/scale.md): "
                                 "each rank would run the whole job; expected one process, or a build with MPI");
    g_current = this;
}

MpiSession::~MpiSession() {
    if (g_current == this) g_current = nullptr;
}

std::vector<std::string> MpiSession::exchange(const std::string& mine) const { return {mine}; }

#endif

const MpiSession& MpiSession::current() {
    static const MpiSession single{Single{}};
    return g_current ? *g_current : single;
}

std::vector<std::string> MpiSession::gather(const std::function<std::string()>& work) const {
    if (size_ == 1) return {work()};
    std::string mine(1, kResult);
    try {
        mine += work();
    } catch (const std::exception& e) {
        mine.assign(1, kError).append(e.what());
    } catch (...) {
        mine.assign(1, kError).append("unknown error");
    }
    if (mine.size() > static_cast<std::size_t>(INT_MAX))
        mine.assign(1, kError).append("its result exceeds " + std::to_string(INT_MAX) + " bytes");
    const std::vector<std::string> parts = exchange(mine);
    if (!root()) {
        if (mine[0] == kError) throw RankFailure("rank " + std::to_string(rank_) + ": " + mine.substr(1));
        return {};
    }
    std::vector<std::string> results;
    std::string message, first_error;
    int failed = 0;
    bool alike = true;  // every failed rank with the same message
    for (std::size_t r = 0; r < parts.size(); ++r) {
        const std::string& p = parts[r];
        if (!p.empty() && p[0] == kResult) {
            results.push_back(p.substr(1));
            continue;
        }
        const std::string error = p.empty() ? "handed in nothing" : p.substr(1);
        if (failed == 0) first_error = error;
        alike = alike && error == first_error;
        ++failed;
        message += (message.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) + ": " + error;
    }
    if (failed == 0) return results;
    // Every rank failed alike: the input they all read is at fault, not a rank.
    if (failed == size_ && alike) throw RankFailure(first_error);
    throw RankFailure(message);
}

}  // namespace cimvp::cli
