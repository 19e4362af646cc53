// The shares of a run as bytes: what each process of an MPI-parallel `cimvp run` (docs/scale.md)
// sends to rank 0, which decodes them and merges them into the run's report (merge_run_shares,
// merge_trace_shares). CBOR of a JSON object: integers and doubles come back bit for bit.
#pragma once

#include <string>

#include "sw/app/run_job.h"
#include "sw/app/trace_job.h"

namespace cimvp {

std::string encode_run_share(const RunShare& s);
// Throws std::runtime_error when the bytes are not an encoded share.
RunShare decode_run_share(const std::string& bytes);

std::string encode_trace_share(const TraceShare& s);
// Throws std::runtime_error when the bytes are not an encoded share.
TraceShare decode_trace_share(const std::string& bytes);

}  // namespace cimvp
