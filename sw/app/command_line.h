// What every subcommand's command line shares: exit codes, the common options
// (--config, --seed, --json), the waveform options, parsing with --help, and the
// configuration the options select. Each subcommand (sw/app/*_command.cpp) owns
// its other options and their rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "hw/arch_config.h"
#include "sw/system/waveform_options.h"
#include "tlm/protocol_checker.h"

namespace cimvp::cli {

namespace po = boost::program_options;

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;  // the platform disagreed with the reference
constexpr int kExitUsage = 2;     // bad command line, config or layer

// The model `run` and `bench --layer-type` use when none is given, relative to the data
// directory (sw/app/data_dir.h).
extern const char* const kDefaultModel;

// A file option's value: the shipped models, configs and traces are also found by their relative name in
// the data directory (sw/app/data_dir.h), so `cimvp run --trace traces/vgg8.trace` works from anywhere.
std::string file_option(const po::variables_map& vm, const char* name);

// --model, or the default model from the data directory (its absence is an error only when it is needed).
std::string model_option(const po::variables_map& vm);

// --help, --config, --seed, --json.
void add_common(po::options_description& d);

// --vcd and its options; `network`: the layer and image gates of `cimvp run`.
void add_waveform_options(po::options_description& d, bool network);

// The waveform options given, checked against the configuration.
WaveformOptions waveform_options_from(const po::variables_map& vm, const ArchConfig& cfg);

// --check-protocol: a TLM-2.0 protocol checker on every router link (platform.check_protocol).
void add_check_protocol_option(po::options_description& d);
// The line a run with protocol checks prints: what was checked, and the violations.
void print_protocol_counts(const std::optional<tlmx::ProtocolCounts>& c);

// Parses a command's options; prints its help and returns true when --help was given.
bool parse_or_help(const po::options_description& d, const std::vector<std::string>& args, po::variables_map& vm);

// --config (or the built-in defaults) with the --adc-bits, --tiles, --seed and --check-protocol overrides, validated.
ArchConfig config_from(const po::variables_map& vm);

}  // namespace cimvp::cli
