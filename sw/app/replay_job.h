// `cimvp replay`: a recorded command stream (sw/formats/command_stream.h) issued again
// on a platform built from the configuration stored in it, without the driver,
// the model or the data set. Every read must return the recorded bytes, every
// access and interrupt must happen at the recorded simulated time; the first
// difference ends the replay with a ReplayMismatch naming it.
// Elaborates SystemC: call once per process.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "hw/energy_report.h"
#include "hw/arch_config.h"
#include "sw/formats/command_stream.h"
#include "tlm/protocol_checker.h"

namespace cimvp {

// The replay diverged from the recording (exit status 1, like a reference mismatch).
struct ReplayMismatch : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ReplayJobResult {
    std::uint64_t events = 0, reads = 0, writes = 0, irq_waits = 0;
    std::uint64_t bytes_written = 0, bytes_checked = 0;
    CommandListTotals replayed;  // cycles, simulated time and lists counted on the replay
    CommandListTotals recorded;  // the same from the recording (its info block)
    std::uint64_t end_ps = 0, recorded_end_ps = 0;
    EnergyBreakdown energy;  // the platform's whole energy over the replay (host loading included)
    double wall_s = 0;
    nlohmann::json info;  // the recording's info block
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol (docs/protocol-checks.md)
};

// The configuration stored in the stream; throws CommandStreamError naming `source`.
ArchConfig recorded_config(const CommandStream& s, const std::string& source);

// Replays `s` on a platform built from `cfg` (normally recorded_config(s)).
// Throws ReplayMismatch on the first difference.
ReplayJobResult run_replay_job(const CommandStream& s, const ArchConfig& cfg);

}  // namespace cimvp
