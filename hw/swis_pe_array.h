// The SWIS PE array (arXiv 2103.01308 section 3.2): rows x cols SwisPe
// (default 8 x 8) in an output-stationary systolic array; PE (r, c)
// accumulates output pixel r of the tile against filter c over all weight
// groups. Activation, weight and output buffers sit between the array and the
// bus. Descriptor driven (hw/command_format.h PeArrayDescriptor), loosely
// timed and blocking like the DMA: START runs the whole job inside the write,
// fetching operands and writing results through the array's own bus socket.
// Register map, descriptor, schedule and timing: docs/registers.md.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "hw/command_format.h"
#include "hw/engine_registers.h"
#include "hw/energy_report.h"
#include "hw/swis_pe.h"
#include "hw/swis_pe_datapath.h"
#include "hw/arch_config.h"
#include "sw/contract/swis.h"
#include "tlm/burst_port.h"
#include "tlm/register_file.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

// DESC_ADDR_LO/HI, CTRL, STATUS and ERROR sit where the DMA has them, so the controller
// drives the array like the DMA and the post-processing unit.
namespace pe_regs {
// 0x00..0x14: the shared engine block (hw/engine_registers.h): ID, DESC_ADDR_LO/HI, CTRL, STATUS, ERROR.
using namespace engine_regs;
constexpr std::uint32_t kGeometry = 0x18;          // RO rows [15:0], cols [31:16]
constexpr std::uint32_t kMode = 0x1C;              // RO PeMode of the last job
constexpr std::uint32_t kComputeCyclesLo = 0x20;   // RO last job: array cycles (the schedule formula)
constexpr std::uint32_t kComputeCyclesHi = 0x24;   // RO
constexpr std::uint32_t kTransferCyclesLo = 0x28;  // RO last job: descriptor, fills and drains, whole clocks
constexpr std::uint32_t kTransferCyclesHi = 0x2C;  // RO
constexpr std::uint32_t kPeCyclesLo = 0x30;        // RO busy PE cycles since reset, all modes
constexpr std::uint32_t kPeCyclesHi = 0x34;        // RO
constexpr std::uint32_t kJobs = 0x38;              // RO START writes that started a job since reset (low 32 bits)

constexpr std::uint32_t kIdValue = 0x53575045;  // "SWPE"
}  // namespace pe_regs

enum class PeArrayError : std::uint32_t {
    kNone = 0,
    kDescriptorFetch = 1,  // reading the descriptor or its N table got a non-OK response
    kRead = 2,             // reading activations or weight records got a non-OK response
    kWrite = 3,            // writing accumulators got a non-OK response
    kBadDescriptor = 4,    // a zero size, an unknown mode, N > 8, a bad Wgt window, a range past 2^64
    kBufferOverflow = 5,   // one tile's activations, weights or accumulators do not fit their buffer
    kWeightRange = 6,      // a weight record that its tile's N (or the Wgt window) cannot run
};

// The read-only bus window on the three buffers (at kPeArrayBufferBase); each part
// starts on a 4 KiB boundary: activations, weights, outputs.
struct PeArrayWindows {
    std::uint64_t act = 0, weight = 0, out = 0;  // offsets in the window
    std::uint64_t act_size = 0, weight_size = 0, out_size = 0;
    std::uint64_t size = 0;  // the whole window
};
PeArrayWindows pe_array_windows(const PeArrayConfig& cfg);

class SwisPeArray : public sc_core::sc_module {
public:
    // Message type of the array's SystemC reports (tlm/error_report.h): register and window errors, jobs
    // ending in ERROR.
    static constexpr const char* kReportId = "/cimvp/pe_array";
    static constexpr std::uint32_t kMaxBurstBytes = 4096;
    static constexpr std::uint64_t kAccBytes = 8;  // one int64 accumulator
    static constexpr std::uint64_t kDescriptorBytes = sizeof(PeArrayDescriptor);

    tlm_utils::simple_target_socket<SwisPeArray> regs_socket;
    tlm_utils::simple_target_socket<SwisPeArray> buffer_socket;  // the read-only buffer window
    tlm_utils::simple_initiator_socket<SwisPeArray> bus_socket;

    struct Counters {
        std::uint64_t jobs = 0, errors = 0;
        std::uint64_t compute_cycles = 0;                               // array cycles, all jobs
        double transfer_ns = 0;                                         // descriptor fetches, buffer fills and drains
        std::array<std::uint64_t, kPeModes> pe_cycles{};                // busy PEs x cycles, per PeMode
        std::uint64_t macs = 0;                                         // pixels x filters x K of the tiles computed
        std::uint64_t buffer_bytes_read = 0, buffer_bytes_written = 0;  // all three buffers
        std::uint64_t bus_bytes_read = 0, bus_bytes_written = 0;        // fills (and descriptors), drains
        std::uint64_t datapath_outputs = 0;     // outputs the stand-in datapath computed
        std::uint64_t datapath_mismatches = 0;  // of those, accumulators unlike the array's own model
        std::uint64_t datapath_bypassed_jobs = 0;  // jobs in a mode the stand-in does not run
    };
    // What the last job did (also after an error: the part that ran).
    struct JobStats {
        PeMode mode = PeMode::kSingleShift;
        PeArrayError error = PeArrayError::kNone;
        std::uint64_t compute_cycles = 0;
        double transfer_ns = 0;
        std::uint64_t pe_cycles = 0;
        std::uint64_t weight_passes = 0;  // weight buffer fills
        std::uint64_t act_passes = 0;     // activation buffer fills
    };

    // clock: digital.clock_ns (one array cycle, one register access).
    SwisPeArray(sc_core::sc_module_name name, const PeArrayConfig& cfg, const DigitalConfig& digital);
    SwisPeArray(const SwisPeArray&) = delete;
    SwisPeArray& operator=(const SwisPeArray&) = delete;

    const PeArrayConfig& config() const { return cfg_; }
    const PeArrayWindows& windows() const { return win_; }
    const tlmx::RegisterFile& registers() const { return regs_; }
    const Counters& counters() const { return counters_; }
    const JobStats& last_job() const { return last_; }

    // A datapath that stands in for the PEs' arithmetic (the RTL twin, docs/rtl.md), or null.
    // Every output of a job in a mode it supports then runs through it, group by group; its
    // accumulators are written out and each one is checked against the array's own model
    // (Counters::datapath_mismatches). Not owned.
    void set_datapath(SwisPeDatapath* datapath) { datapath_ = datapath; }

    double pj_per_cycle(PeMode m) const;
    // Busy PE cycles of each mode as pe energy, the buffers' bytes as buffers energy.
    void meter(EnergyMeter& m) const;
    // Zeroes the counters and PE_CYCLES / JOBS; the last job's registers stay.
    void reset_counters();
    // Declares busy, mode and cycles (compute cycles of the current job) in `scope` and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);

private:
    struct Job {
        PeArrayDescriptor d;
        PeMode mode = PeMode::kSingleShift;
        std::vector<std::uint8_t> tile_n;
        std::uint64_t K = 0, G = 0, rec = 0;
    };

    void regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned regs_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    void buffer_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned buffer_dbg(tlm::tlm_generic_payload& t);
    // The buffer bytes at [offset, offset + len) of the window, or nullptr when that is not inside one part.
    const std::uint8_t* window_bytes(std::uint64_t offset, std::uint64_t len) const;

    // A bus block at the job's local time offset; adds its time to transfer.
    bool block(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint64_t len,
               sc_core::sc_time& transfer);
    PeArrayError run(sc_core::sc_time& transfer);
    PeArrayError load(Job& job, sc_core::sc_time& transfer);
    PeArrayError execute(const Job& job, sc_core::sc_time& transfer);
    PeArrayError load_weights(const Job& job, std::uint64_t f0, std::uint64_t f1, sc_core::sc_time& transfer);
    void gather(const Job& job, std::uint64_t first, int count);
    void compute_tile(const Job& job, int pixels, std::uint64_t f0, std::uint64_t fc0, int filters,
                      std::uint64_t chunk_filters);
    void publish();

    const PeArrayConfig cfg_;
    const sc_core::sc_time clock_;
    const PeArrayWindows win_;
    tlmx::RegisterFile regs_;
    tlmx::BurstPort port_;
    bool start_requested_ = false;
    sc_core::sc_time job_start_;  // the START write's delay: the job's local time offset at its start

    std::vector<std::uint8_t> act_buf_, weight_buf_, out_buf_;  // what the window shows
    std::vector<swis::Group> groups_;                           // the weight buffer decoded, [filter][group]
    std::vector<std::uint8_t> gathered_;                        // [pixel][group][lane] of the current pixel tile
    std::vector<std::uint64_t> live_;                           // lanes that hold a channel
    std::vector<std::int32_t> lanes_;                           // decoded weights [filter][group][lane] of the fill
    SwisPeDatapath* datapath_ = nullptr;
    Counters counters_;
    JobStats last_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    struct {
        tlmx::WaveformRecorder::Var busy, mode, cycles;
    } wave_vars_{};
};

}  // namespace cimvp
