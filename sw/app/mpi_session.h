// The processes of an MPI-parallel `cimvp run` (docs/scale.md, "MPI-parallel runs") and the one place
// cimvp calls MPI: starting and ending it, which rank this process is, and bringing what every rank
// computed to rank 0. A process no MPI launcher started, or a cimvp built without MPI
// (-DCIMVP_WITH_MPI=OFF, or no MPI found), is rank 0 of 1 and never calls MPI. Part of the `cimvp`
// executable only: the jobs (run_job, trace_job) know their share, not MPI.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp::cli {

// A rank's work failed: what cimvp prints (once, on rank 0) before it exits 2.
struct RankFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class MpiSession {
public:
    // Starts MPI when an MPI launcher (mpirun) started this process as a rank. Throws
    // std::runtime_error when it did so with several ranks and cimvp was built without MPI: each
    // would run the whole job and write the same files.
    MpiSession();
    ~MpiSession();  // ends MPI
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    // The session of this process: rank 0 of 1 while none is started.
    static const MpiSession& current();

    int rank() const { return rank_; }
    int size() const { return size_; }
    bool root() const { return rank_ == 0; }

    // Runs `work` on every rank and returns what it returned, in rank order, on rank 0 (an empty list
    // on the others); every rank calls it once, at the same point. A rank whose work throws fails the
    // run without leaving the others waiting: every rank hands in its result or its error, then rank 0
    // throws RankFailure with "rank N: message" for each failed rank (the message alone when every rank
    // failed with the same one: the bad input every rank read alike), and a failed rank other than 0
    // throws RankFailure too. In a run of one rank, work's own exception propagates.
    std::vector<std::string> gather(const std::function<std::string()>& work) const;

private:
    struct Single {};
    explicit MpiSession(Single) {}  // rank 0 of 1, no MPI: what current() returns before a session starts
    // Every rank's bytes, in rank order, on rank 0 (an empty list on the others).
    std::vector<std::string> exchange(const std::string& mine) const;

    int rank_ = 0, size_ = 1;
    [[maybe_unused]] bool started_ = false;  // MPI_Init was called (never without MPI)
};

}  // namespace cimvp::cli
