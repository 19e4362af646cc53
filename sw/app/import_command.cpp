// `cimvp import`: an ONNX network to a cimvp model file (docs/import.md). The work is the Python front
// end's (sw/python/cimvp_import.py, run by sw/app/python_tool.h), so the arguments, the output and the
// exit code are the script's (0 written, 2 bad or unsupported input).
#include "sw/app/commands.h"
#include "sw/app/python_tool.h"

namespace cimvp::cli {

int import_command(const Args& args) {
    return exec_python_tool("import", "cimvp_import.py", args, "the onnx package", "python3-onnx");
}

}  // namespace cimvp::cli
