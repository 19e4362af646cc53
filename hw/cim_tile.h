// One CIM tile: the sequencer that runs a batch of input vectors through the
// tile's datapath (input buffer -> crossbar macro -> ADC bank -> shift-add
// accumulator with its output buffer). Registers in docs/registers.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/adc_bank.h"
#include "hw/crossbar_macro.h"
#include "hw/energy_report.h"
#include "hw/memory.h"
#include "hw/shift_add_accumulator.h"
#include "hw/tile_registers.h"
#include "hw/arch_config.h"
#include "tlm/cim_read_extension.h"
#include "tlm/register_file.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

class CimTile : public sc_core::sc_module {
public:
    // Message type of the sequencer's SystemC reports (tlm/error_report.h): register errors, runs ending in
    // ERROR. The blocks inside have their own (CrossbarMacro, AdcBank, ShiftAddAccumulator, Memory).
    static constexpr const char* kReportId = "/cimvp/tile";

    tlm_utils::simple_target_socket<CimTile> regs_socket;
    // Bus master port: the sequencer reads its input buffer over the bus.
    tlm_utils::simple_initiator_socket<CimTile> bus_socket;
    // The sequencer's port into the macro (internal).
    tlm_utils::simple_initiator_socket<CimTile, 32, tlmx::cim_read_protocol_types> macro_socket;

    CrossbarMacro macro;
    AdcBank adc;
    ShiftAddAccumulator accumulator;
    Memory input_buffer;

    // input_buffer_address: where the input buffer sits on the bus.
    CimTile(sc_core::sc_module_name name, const ArchConfig& cfg, int index, std::uint64_t input_buffer_address);
    CimTile(const CimTile&) = delete;
    CimTile& operator=(const CimTile&) = delete;
    ~CimTile() override { macro_tx_.clear_extension(&ext_); }  // the extension is a member, not the payload's

    int index() const { return index_; }
    bool busy_signal() const { return busy_; }
    std::uint64_t runs() const { return runs_; }
    // Crossbar + ADC + shift-add + buffers of this tile.
    void meter(EnergyMeter& m) const;
    void reset_counters();
    // Declares busy and vectors (of the current run) in `scope` and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);

private:
    void regs_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned regs_dbg(tlm::tlm_generic_payload& t);
    void run(sc_core::sc_time& delay);
    TileError check_config() const;
    void finish(TileError e);

    ArchConfig cfg_;
    int index_;
    std::uint64_t input_address_;
    tlmx::RegisterFile regs_;
    bool start_pending_ = false;
    bool busy_ = false;
    std::uint64_t runs_ = 0, reads_ = 0;
    std::vector<std::uint8_t> inputs_;
    std::vector<std::uint64_t> planes_;
    tlm::tlm_generic_payload bus_tx_, macro_tx_;
    tlmx::CimReadExtension ext_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    tlmx::WaveformRecorder::Var wave_busy_ = 0, wave_vectors_ = 0;
};

}  // namespace cimvp
