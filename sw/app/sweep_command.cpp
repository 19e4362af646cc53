// `cimvp sweep SPEC`: a design-space sweep (docs/scale.md). The sweep file's points each run as their own
// `cimvp run` through an executor (this machine, or a Slurm job array) and are collected into one table.
// The work is sw/python/cimvp_sweep.py (run by sw/app/python_tool.h, which tells it this executable in
// $CIMVP_EXE), so the arguments, the output and the exit code are the script's (0 every point done, 1 a
// point failed or has no result yet, 2 a bad sweep file or option, 3 the executor unavailable).
#include "sw/app/commands.h"
#include "sw/app/python_tool.h"

namespace cimvp::cli {

int sweep_command(const Args& args) {
    return exec_python_tool("sweep", "cimvp_sweep.py", args, "the yaml package", "python3-yaml");
}

}  // namespace cimvp::cli
