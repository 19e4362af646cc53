// Where the application finds the data it ships with (models/, configs/, traces/) at run time, so that
// the binary works from its build tree, from an install prefix or from a copy of either, and names no
// source path (README.md, "Install").
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp {

// No candidate directory holds the requested file; the message names every place looked in.
struct DataNotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The directories searched, in order:
//   - $CIMVP_DATA_DIR when it is set (and then only it: an explicit choice is not second-guessed);
//   - <directory of the executable>/CIMVP_DATA_RELDIR: <prefix>/bin/../share/cimvp in an install tree;
//   - <directory of the executable>/share/cimvp: the build tree, whose configure step links
//     share/cimvp/{models,configs,traces} there to the source tree's.
std::vector<std::string> data_dir_candidates();

// The first candidate holding `relative` (e.g. "models/fmnist-bwma.cimvp"), joined with it; throws
// DataNotFound naming `relative` and the candidates.
std::string find_data_file(const std::string& relative);

// A file named on the command line: `path` itself when it exists or is absolute, else the data
// directory's file of that relative name when there is one (`cimvp run --trace traces/vgg8.trace`
// from anywhere), else `path` unchanged so that its loader reports it missing.
std::string resolve_data_path(const std::string& path);

}  // namespace cimvp
