// Reading an input file named on the command line (a model, trace, config or
// recording), bounded before anything is allocated: what is not a regular file
// or a pipe (a directory, a device such as /dev/zero) is refused before it is
// read, a FIFO with no writer reads as empty instead of blocking, and a file
// larger than its format's limit is refused as soon as the limit is passed.
// The limits are documented with each format (docs/*-format.md, docs/config.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimvp {

// Reads the whole file into `out`. On failure returns false with `error` set to
// "<path>: cannot read the <what>: <reason>" (no such file, a directory, larger than
// max_bytes bytes, ...).
bool read_input_file(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                     std::vector<std::uint8_t>& out, std::string& error);

// The same, throwing Error(message) on failure.
template <class Error>
std::vector<std::uint8_t> read_input_file_or_throw(const std::string& path, const std::string& what,
                                                   std::uint64_t max_bytes) {
    std::vector<std::uint8_t> out;
    std::string error;
    if (!read_input_file(path, what, max_bytes, out, error)) throw Error(error);
    return out;
}

}  // namespace cimvp
