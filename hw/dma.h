// Descriptor-driven DMA engine: a 2D strided copy (hw/command_format.h
// DmaDescriptor) between any two mapped targets. Loosely timed and blocking:
// writing CTRL.START runs the whole descriptor inside that write's b_transport
// and returns with the transfer time added to the writer's delay.
// Register map and timing rule: docs/registers.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/command_format.h"
#include "hw/arch_config.h"
#include "hw/energy_report.h"
#include "tlm/burst_port.h"
#include "tlm/register_file.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

// Register offsets and bits of the DMA's MMIO block (32-bit registers).
namespace dma_regs {
constexpr std::uint32_t kId = 0x00;           // RO
constexpr std::uint32_t kDescAddrLo = 0x04;   // RW
constexpr std::uint32_t kDescAddrHi = 0x08;   // RW
constexpr std::uint32_t kCtrl = 0x0C;         // WO
constexpr std::uint32_t kStatus = 0x10;       // RO
constexpr std::uint32_t kError = 0x14;        // RO, a DmaError
constexpr std::uint32_t kBytesLo = 0x18;      // RO, bytes moved since reset
constexpr std::uint32_t kBytesHi = 0x1C;      // RO

constexpr std::uint32_t kIdValue = 0x444D4131;  // "DMA1"
constexpr std::uint32_t kCtrlStart = 1u << 0;
constexpr std::uint32_t kCtrlIm2col = 1u << 1;  // with START: the descriptor is an Im2colDescriptor
constexpr std::uint32_t kStatusBusy = 1u << 0;
constexpr std::uint32_t kStatusDone = 1u << 1;
constexpr std::uint32_t kStatusError = 1u << 2;
}  // namespace dma_regs

enum class DmaError : std::uint32_t {
    kNone = 0,
    kDescriptorFetch = 1,   // reading the descriptor got a non-OK response
    kSourceRead = 2,        // a source burst got a non-OK response
    kDestinationWrite = 3,  // a destination burst got a non-OK response
    kBadDescriptor = 4,     // rows or row_bytes 0, a stride < row_bytes with rows > 1, or an address range that wraps;
                            // im2col: a zero dimension, a kernel larger than the padded input, rows past K
};

class Dma : public sc_core::sc_module {
public:
    // Message type of the DMA's SystemC reports (tlm/error_report.h): register errors, descriptors ending in ERROR.
    static constexpr const char* kReportId = "/cimvp/dma";

    // Largest transaction the engine issues; rows are split into bursts of at most this.
    static constexpr std::uint32_t kMaxBurstBytes = 4096;

    struct Counters {
        std::uint64_t descriptors = 0;  // descriptors started (successful or not)
        std::uint64_t bytes = 0;        // bytes written to the destination
        std::uint64_t errors = 0;       // descriptors that ended in ERROR
    };

    tlm_utils::simple_target_socket<Dma> regs_socket;
    tlm_utils::simple_initiator_socket<Dma> bus_socket;

    Dma(sc_core::sc_module_name name, const DmaConfig& cfg);
    Dma(const Dma&) = delete;
    Dma& operator=(const Dma&) = delete;

    const Counters& counters() const { return counters_; }
    // Also zeroes BYTES_LO/HI.
    void reset_counters();
    void meter(EnergyMeter& m) const { m.add(&EnergyBreakdown::dma, counters_.bytes, cfg_.pj_per_byte); }
    double energy_pj() const {
        EnergyMeter m;
        meter(m);
        return m.total_pj();
    }
    const tlmx::RegisterFile& registers() const { return regs_; }
    // Declares busy, bytes (of the current descriptor) and total_bytes in `scope` and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);

private:
    void regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned regs_transport_dbg(tlm::tlm_generic_payload& t);

    // Runs the descriptor at DESC_ADDR. delay: the engine's local time offset, the START write's delay on
    // entry; every burst is issued at it and it comes back with the engine's time added.
    void run(sc_core::sc_time& delay);
    DmaError execute(const DmaDescriptor& d, sc_core::sc_time& delay);
    DmaError execute(const Im2colDescriptor& d, sc_core::sc_time& delay);

    void publish_bytes();

    const DmaConfig cfg_;
    const sc_core::sc_time setup_;
    tlmx::RegisterFile regs_;
    tlmx::BurstPort port_;
    std::vector<std::uint8_t> buffer_;  // one burst
    std::vector<std::uint8_t> gather_src_, gather_dst_;  // im2col staging
    std::vector<int> gather_ky_, gather_kx_;          // im2col: kernel row and column of each patch row
    std::vector<std::size_t> gather_plane_;            // im2col: offset of each patch row's channel plane
    std::vector<std::size_t> gather_offset_;           // im2col: offset of each patch row from the window's corner
    bool start_requested_ = false;      // set by the CTRL write hook, served after the write
    bool im2col_requested_ = false;
    bool busy_ = false;                 // a START arriving through our own bus while running is ignored
    Counters counters_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    struct {
        tlmx::WaveformRecorder::Var busy, bytes, total;
    } wave_vars_{};
};

}  // namespace cimvp
