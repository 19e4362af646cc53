// `cimvp replay`: a recorded command stream issued again on the platform, without the driver.
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/replay_job.h"
#include "sw/app/results_json.h"
#include "sw/formats/command_stream.h"
#include "sw/formats/config_loader.h"

namespace cimvp::cli {

int replay_command(const Args& args) {
    po::options_description d("cimvp replay FILE [options]");
    d.add_options()("help,h", "show this help")("file", po::value<std::string>(), "recorded command stream")(
        "config", po::value<std::string>(),
        "replay on this architecture config instead of the recorded one (a timing change is reported as a "
        "difference)")("json", po::value<std::string>(), "write the results object to this file");
    add_check_protocol_option(d);
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << d << '\n';
        return kExitOk;
    }
    if (!vm.count("file")) throw std::invalid_argument("replay: expected a recorded command stream file (cimvp replay F)");
    const std::string path = file_option(vm, "file");
    const CommandStream stream = read_command_stream(path);
    ArchConfig cfg = vm.count("config") ? load_config(file_option(vm, "config")) : recorded_config(stream, path);
    if (vm["check-protocol"].as<bool>()) cfg.platform.check_protocol = true;
    ReplayJobResult r;
    try {
        r = run_replay_job(stream, cfg);
    } catch (const ReplayMismatch& e) {
        std::fprintf(stderr, "cimvp replay: %s: %s\n", path.c_str(), e.what());
        return kExitMismatch;
    } catch (const CommandStreamError& e) {  // the recording's info object
        throw CommandStreamError(path + ": " + e.what());
    }
    std::printf("replayed %s (%s): %llu events: %llu writes (%llu bytes), %llu reads (%llu bytes checked), %llu "
                "interrupt waits\n",
                path.c_str(), r.info.value("command", std::string("?")).c_str(),
                static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.writes),
                static_cast<unsigned long long>(r.bytes_written), static_cast<unsigned long long>(r.reads),
                static_cast<unsigned long long>(r.bytes_checked), static_cast<unsigned long long>(r.irq_waits));
    std::printf("identical to the recording: %llu command lists, cycles %llu, simulated time %.3f us, ends at %.3f us\n",
                static_cast<unsigned long long>(r.replayed.lists), static_cast<unsigned long long>(r.replayed.cycles),
                r.replayed.sim_time_ns / 1000.0, static_cast<double>(r.end_ps) / 1e6);
    std::printf("wall time %.3f s\n", r.wall_s);
    print_protocol_counts(r.protocol);
    if (vm.count("json")) {
        nlohmann::json j;
        j["match"] = true;
        j["events"] = r.events;
        j["writes"] = r.writes;
        j["reads"] = r.reads;
        j["irq_waits"] = r.irq_waits;
        j["bytes_written"] = r.bytes_written;
        j["bytes_checked"] = r.bytes_checked;
        j["command_lists"] = r.replayed.lists;
        j["cycles"] = r.replayed.cycles;
        j["sim_time_ns"] = r.replayed.sim_time_ns;
        j["end_ps"] = r.end_ps;
        j["wall_seconds"] = r.wall_s;
        j["energy_pj"] = energy_to_json(r.energy);
        j["recorded"] = r.info;
        j["config"] = config_to_json(cfg);
        add_protocol_counts(j, r.protocol);
        write_json_file(vm["json"].as<std::string>(), j);
    }
    return kExitOk;
}

}  // namespace cimvp::cli
