#include "sw/app/python_tool.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "sw/app/command_line.h"
#include "sw/app/data_dir.h"

namespace cimvp::cli {

namespace {

constexpr const char* kDefaultPython = "/usr/bin/python3";

}  // namespace

int exec_python_tool(const std::string& command, const std::string& script, const Args& args,
                     const std::string& needs, const std::string& packages) {
    const char* env = std::getenv("CIMVP_PYTHON");
    const std::string python = env && *env ? env : kDefaultPython;
    const std::string install = "install python3 and " + packages +
                                " (bash scripts/setup.sh) or set CIMVP_PYTHON to a Python 3 that has them";
    std::string path;
    try {
        path = find_data_file("python/" + script);
    } catch (const DataNotFound& e) {
        std::fprintf(stderr, "cimvp %s: the Python script is missing: %s\n", command.c_str(), e.what());
        return kExitUsage;
    }
    const bool has_path = python.find('/') != std::string::npos;
    if (has_path && access(python.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "cimvp %s: needs Python 3 with %s: %s is not an executable (%s)%s; %s\n",
                     command.c_str(), needs.c_str(), python.c_str(), std::strerror(errno),
                     env && *env ? " (from CIMVP_PYTHON)" : "", install.c_str());
        return kExitUsage;
    }
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) setenv("CIMVP_EXE", self.c_str(), 1);
    std::vector<std::string> words{python, path};
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
    std::fprintf(stderr, "cimvp %s: cannot run %s: %s; %s\n", command.c_str(), python.c_str(), std::strerror(errno),
                 install.c_str());
    return kExitUsage;
}

}  // namespace cimvp::cli
