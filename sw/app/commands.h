// The subcommands of `cimvp`, one source each (sw/app/<name>_command.cpp): each
// owns its options, their rules and its report, and returns the exit code
// (sw/app/command_line.h). sw/app/cimvp_main.cpp only dispatches.
#pragma once

#include <string>
#include <vector>

namespace cimvp::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand's name

int run_command(const Args& args);      // run: a network on the data set, or a workload trace
int layer_command(const Args& args);    // layer: one random layer, checked bit-exactly
int bench_command(const Args& args);    // bench: platform against reference speed
int replay_command(const Args& args);   // replay: a recorded command stream, without the driver
int info_command(const Args& args);     // info: the effective configuration and address map
int swis_command(const Args& args);     // swis: the SWIS report of a trace or a model
int convert_command(const Args& args);  // convert: a model with SWIS groups stored (format v2)
int import_command(const Args& args);   // import: an ONNX network to a model file (the Python front end)
int sweep_command(const Args& args);    // sweep: a design-space sweep, each point a run, one table
int size_command(const Args& args);     // size: a weights-resident chip for a trace, its pipelined latency

}  // namespace cimvp::cli
