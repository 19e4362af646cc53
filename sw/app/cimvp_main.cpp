// cimvp: the command-line entry point of the virtual platform. It dispatches to
// the subcommands (sw/app/commands.h) and turns their errors into messages and
// exit codes. Started by mpirun, it is one rank of an MPI-parallel `cimvp run`
// (sw/app/mpi_session.h): only rank 0 prints.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <systemc>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/mpi_session.h"
#include "sw/contract/layer_mapping.h"
#include "sw/formats/command_stream.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/idx_dataset.h"
#include "sw/formats/model_file.h"
#include "sw/formats/trace_file.h"

using namespace cimvp;
using namespace cimvp::cli;

namespace {

// SystemC prints its banner before sc_main runs, so this must happen at static initialization.
const bool kQuietBanner = setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0) == 0;

const char* kUsage = R"(cimvp — SystemC/TLM-2.0 virtual platform of a compute-in-memory CNN accelerator

usage: cimvp <command> [options]      (cimvp <command> --help for its options)

commands:
  run     run a quantized network on the Fashion-MNIST test set (default: the BWMA model,
          configs/default.json): accuracy, agreement with the C++ reference, cycles,
          latency and energy per image by component and by layer; with --trace F a
          network workload trace (traces/*.trace) layer by layer, with the same report
  layer   run one random matrix layer (or an im2col convolution) on the platform,
          check it bit-exactly against the C++ reference, report cycles and energy
  bench   time a layer on the SystemC platform against the C++ reference alone; with
          --layer-type T|all: simulated MAC/s, images/s and platform/reference per layer type
  replay  issue a recorded command stream (run/layer --record F) again on the platform it was
          recorded on, without the driver: checks every read and the timing, reports cycles
  info    print the effective configuration and the platform's address map
  swis    SWIS report for a layer-shape trace or a model: shifts, cycles, frames/s, energy of
          SS, DS, C-SS, C-DS, Act, Wgt, FXP at N = 2, 2.5, 3, 4, and accuracy with a model
  convert write a model with its PE-array layers stored as SWIS groups (model format v2),
          with the storage per group and per layer against int8; `cimvp run` runs the groups
  import  an ONNX network (float, quantized post-training on calibration images, or already
          quantized with QDQ) to a model file, and with --trace-out to a workload trace
          (docs/import.md; runs the Python front end: python3 with the onnx package)
  size    size a weights-resident chip for a trace (every crossbar layer on its own tiles,
          programmed once) and run it: tiles per layer, latency layer by layer and pipelined
          (the slowest layer sets the rate), frames/s, the one-time programming
  sweep   a design-space sweep from a sweep file (axes: config keys, model, trace, seed,
          images; figures to collect): every point a `cimvp run`, on this machine (-j N) or
          as a Slurm job array, into one CSV and SQLite table (docs/scale.md)

waveforms: run, layer and bench take --vcd F (a VCD of the platform's signals, and F.gtkw
beside it: gtkwave F.gtkw) with --vcd-from/--vcd-to T, and run also --vcd-layer L and
--vcd-image N (docs/debugging.md)

parallel: mpirun -np N cimvp run ... splits the run's batches of images (or a trace's layers)
over N processes; rank 0 merges their results and writes the one report (docs/scale.md)
)";

}  // namespace

int sc_main(int argc, char* argv[]) {
    // Results go to stdout; SystemC's stop notice is noise there.
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    std::unique_ptr<MpiSession> mpi;
    try {
        mpi = std::make_unique<MpiSession>();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
        return kExitUsage;
    }
    // Rank 0 reports. Another rank fails only where rank 0 does (the same command line), or hands its
    // failure to rank 0 (MpiSession::gather): what it printed would repeat rank 0's.
    if (!mpi->root() && (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)))
        return kExitUsage;
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        std::cout << kUsage;
        return argc < 2 ? kExitUsage : kExitOk;
    }
    const std::string cmd = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (mpi->size() > 1 && cmd != "run") {
        std::fprintf(stderr, "cimvp %s: expected one process, got %d MPI ranks (only `cimvp run` splits its work "
                             "over ranks, docs/scale.md)\n", cmd.c_str(), mpi->size());
        return kExitUsage;
    }
    try {
        if (cmd == "run") return run_command(args);
        if (cmd == "layer") return layer_command(args);
        if (cmd == "bench") return bench_command(args);
        if (cmd == "info") return info_command(args);
        if (cmd == "replay") return replay_command(args);
        if (cmd == "swis") return swis_command(args);
        if (cmd == "convert") return convert_command(args);
        if (cmd == "import") return import_command(args);
        if (cmd == "sweep") return sweep_command(args);
        if (cmd == "size") return size_command(args);
        std::fprintf(stderr, "cimvp: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
        return kExitUsage;
    } catch (const po::error& e) {
        std::fprintf(stderr, "cimvp %s: %s (see cimvp %s --help)\n", cmd.c_str(), e.what(), cmd.c_str());
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const ModelError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const DatasetError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const TraceError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const CommandStreamError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const MappingError& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cimvp: %s\n", e.what());
    }
    return kExitUsage;
}
