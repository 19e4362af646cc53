#include "sw/app/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <systemc>

#ifndef CIMVP_DATA_RELDIR
#error "CIMVP_DATA_RELDIR must be defined (cmake/package.cmake): the data directory relative to bin/"
#endif

namespace fs = std::filesystem;

namespace cimvp {

namespace {

// The running executable's directory: /proc/self/exe resolves symbolic links to the binary, so a
// link to an installed cimvp still finds the prefix; argv[0] where /proc is not mounted.
fs::path executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec && sc_core::sc_argc() > 0 && sc_core::sc_argv()[0]) exe = fs::absolute(sc_core::sc_argv()[0], ec);
    if (ec || exe.empty()) return {};
    return exe.parent_path();
}

}  // namespace

std::vector<std::string> data_dir_candidates() {
    if (const char* env = std::getenv("CIMVP_DATA_DIR"); env && *env) return {env};
    const fs::path dir = executable_dir();
    if (dir.empty()) return {};
    return {(dir / CIMVP_DATA_RELDIR).lexically_normal().string(), (dir / "share" / "cimvp").string()};
}

std::string find_data_file(const std::string& relative) {
    const std::vector<std::string> dirs = data_dir_candidates();
    std::error_code ec;
    for (const std::string& d : dirs)
        if (fs::is_regular_file(fs::path(d) / relative, ec)) return (fs::path(d) / relative).string();
    std::string where;
    for (const std::string& d : dirs) where += (where.empty() ? "" : ", ") + d;
    if (std::getenv("CIMVP_DATA_DIR") && *std::getenv("CIMVP_DATA_DIR")) where += " (from CIMVP_DATA_DIR)";
    else if (where.empty()) where = "nowhere: the executable's directory is unknown";
    throw DataNotFound("no " + relative + " in the data directory; looked in " + where +
                       ". Install cimvp (cmake --install) or set CIMVP_DATA_DIR to a directory holding models/, "
                       "configs/ and traces/");
}

std::string resolve_data_path(const std::string& path) {
    std::error_code ec;
    if (path.empty() || fs::path(path).is_absolute() || fs::exists(path, ec)) return path;
    for (const std::string& d : data_dir_candidates())
        if (fs::is_regular_file(fs::path(d) / path, ec)) return (fs::path(d) / path).string();
    return path;
}

}  // namespace cimvp
