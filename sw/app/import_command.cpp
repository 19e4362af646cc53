// `cimvp import`: an ONNX network to a cimvp model file (docs/import.md). The work is the Python front
// end's (sw/python/cimvp_import.py, installed as share/cimvp/python): this command finds it in the data
// directory (sw/app/data_dir.h) and Python 3 ($CIMVP_PYTHON, else /usr/bin/python3), and replaces itself
// with `python3 cimvp_import.py ARGS...`, so the arguments, the output and the exit code are the script's
// (0 written, 2 bad or unsupported input).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/data_dir.h"

namespace cimvp::cli {

namespace {

constexpr const char* kFrontEnd = "python/cimvp_import.py";
constexpr const char* kDefaultPython = "/usr/bin/python3";

}  // namespace

int import_command(const Args& args) {
    const char* env = std::getenv("CIMVP_PYTHON");
    const std::string python = env && *env ? env : kDefaultPython;
    std::string script;
    try {
        script = find_data_file(kFrontEnd);
    } catch (const DataNotFound& e) {
        std::fprintf(stderr, "cimvp import: the Python front end is missing: %s\n", e.what());
        return kExitUsage;
    }
    const bool has_path = python.find('/') != std::string::npos;
    if (has_path && access(python.c_str(), X_OK) != 0) {
        std::fprintf(stderr,
                     "cimvp import: needs Python 3 with the onnx package: %s is not an executable (%s)%s; install "
                     "python3 and python3-onnx (bash scripts/setup.sh) or set CIMVP_PYTHON to a Python 3\n",
                     python.c_str(), std::strerror(errno), env && *env ? " (from CIMVP_PYTHON)" : "");
        return kExitUsage;
    }
    std::vector<std::string> words{python, script};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    if (has_path)
        execv(python.c_str(), argv.data());
    else
        execvp(python.c_str(), argv.data());
    std::fprintf(stderr, "cimvp import: cannot run %s: %s; install python3 and python3-onnx (bash scripts/setup.sh) "
                         "or set CIMVP_PYTHON to a Python 3\n",
                 python.c_str(), std::strerror(errno));
    return kExitUsage;
}

}  // namespace cimvp::cli
