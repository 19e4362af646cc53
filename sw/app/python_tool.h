// The subcommands whose work is a Python script of the data directory (`cimvp import`: the front end,
// `cimvp sweep`: the design-space sweeps), installed as share/cimvp/python: the script is found there
// (sw/app/data_dir.h), and Python 3 is $CIMVP_PYTHON, else /usr/bin/python3 (Debian's, with the packages
// scripts/setup.sh installs).
#pragma once

#include <string>

#include "sw/app/commands.h"

namespace cimvp::cli {

// Replaces the process with `python3 <data dir>/python/<script> ARGS...`, so the arguments, the output and
// the exit code are the script's. $CIMVP_EXE is set to this executable for a script that runs cimvp
// itself. Returns only when that cannot be done: with kExitUsage, after a message naming `command`, what
// is missing, what the script `needs` ("the onnx package") and the Debian `packages` that bring it.
int exec_python_tool(const std::string& command, const std::string& script, const Args& args,
                     const std::string& needs, const std::string& packages);

}  // namespace cimvp::cli
