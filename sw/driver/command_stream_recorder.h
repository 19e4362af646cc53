// Records what the host does to the platform into a CommandStream
// (sw/formats/command_stream.h): attach it to the HostCpu before run(), write it after.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <systemc>

#include "hw/arch_config.h"
#include "sw/formats/command_stream.h"
#include "sw/driver/host_cpu.h"

namespace cimvp {

// Simulated time <-> the stream's integer picoseconds.
std::uint64_t to_picoseconds(const sc_core::sc_time& t);
sc_core::sc_time from_picoseconds(std::uint64_t ps);

class CommandStreamRecorder : public HostObserver {
public:
    explicit CommandStreamRecorder(const ArchConfig& cfg);

    void on_access(const sc_core::sc_time& issued, tlm::tlm_command cmd, std::uint64_t addr,
                   const unsigned char* data, std::size_t len, tlm::tlm_response_status response) override;
    void on_irq_wait(const sc_core::sc_time& called, const sc_core::sc_time& timeout, const sc_core::sc_time& returned,
                     bool raised) override;

    const CommandStream& stream() const { return stream_; }
    const CommandListTotals& totals() const { return tally_.totals(); }
    // Writes the stream with `info` (what was recorded) plus the recorder's own
    // totals and `end_ps` (simulated time when the host program ended).
    void write(const std::string& path, nlohmann::json info, const sc_core::sc_time& end);

private:
    CommandStream stream_;
    CommandListTally tally_;
};

}  // namespace cimvp
