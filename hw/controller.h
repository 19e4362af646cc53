// The accelerator's controller: MMIO registers for the host, a thread that
// fetches the command list (hw/command_format.h) from memory and sequences the
// DMA, the tiles and register writes, performance counters, and an IRQ line.
// Loosely timed with temporal decoupling. DMA commands block; tile runs
// overlap until a fence. Register map and timing rule: docs/registers.md.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/tile_registers.h"
#include "hw/arch_config.h"
#include "tlm/register_file.h"
#include "tlm/timed_initiator.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

// Register offsets and bits of the controller's MMIO block (32-bit registers).
namespace controller_regs {
constexpr std::uint32_t kId = 0x00;              // RO
constexpr std::uint32_t kVersion = 0x04;         // RO
constexpr std::uint32_t kCtrl = 0x08;            // WO
constexpr std::uint32_t kStatus = 0x0C;          // RO
constexpr std::uint32_t kError = 0x10;           // RO, a ControllerError
constexpr std::uint32_t kErrorIndex = 0x14;      // RO, index of the failing command
constexpr std::uint32_t kCmdBaseLo = 0x18;       // RW
constexpr std::uint32_t kCmdBaseHi = 0x1C;       // RW
constexpr std::uint32_t kCmdCount = 0x20;        // RW
constexpr std::uint32_t kIrqEnable = 0x24;       // RW
constexpr std::uint32_t kIrqStatus = 0x28;       // RW, write 1 to clear
constexpr std::uint32_t kPerfCyclesLo = 0x2C;    // RO
constexpr std::uint32_t kPerfCyclesHi = 0x30;    // RO
constexpr std::uint32_t kPerfCommands = 0x34;    // RO
constexpr std::uint32_t kPerfTileRuns = 0x38;    // RO
constexpr std::uint32_t kPerfDmaCommands = 0x3C; // RO

constexpr std::uint32_t kIdValue = 0x43494D50;       // "CIMP"
constexpr std::uint32_t kVersionValue = 0x00010000;  // 1.0
constexpr std::uint32_t kCtrlStart = 1u << 0;
constexpr std::uint32_t kCtrlSoftReset = 1u << 1;
constexpr std::uint32_t kStatusBusy = 1u << 0;
constexpr std::uint32_t kStatusDone = 1u << 1;
constexpr std::uint32_t kStatusError = 1u << 2;
constexpr std::uint32_t kIrqDone = 1u << 0;   // IRQ_ENABLE and IRQ_STATUS
constexpr std::uint32_t kIrqError = 1u << 1;
}  // namespace controller_regs

enum class ControllerError : std::uint32_t {
    kNone = 0,
    kBadOpcode = 1,  // unknown opcode
    kFetch = 2,      // fetching the command got a non-OK response
    kDma = 3,        // a DMA register access failed or the DMA ended in ERROR
    kTile = 4,       // a tile register access failed or the tile reports ERROR
    kRegWrite = 5,   // kRegWrite got a non-OK response
    kPostProcess = 6,  // a post-processing register access failed or the job ended in ERROR
    kPeArray = 7,      // a PE array register access failed or its job ended in ERROR
};

class Controller : public sc_core::sc_module {
public:
    // Message type of the controller's SystemC reports (tlm/error_report.h): register errors, lists ending in ERROR.
    static constexpr const char* kReportId = "/cimvp/controller";
    // The part of the tile's register block (hw/tile_registers.h) that kTileRun drives.
    static constexpr std::uint32_t kTileCtrl = tile_reg::kCtrl;
    static constexpr std::uint32_t kTileStatus = tile_reg::kStatus;
    static constexpr std::uint32_t kTileVectors = tile_reg::kVectors;
    static constexpr std::uint32_t kTileVectorBase = tile_reg::kVectorBase;
    static constexpr std::uint32_t kTileCtrlStart = tile_reg::kCtrlStart;
    static constexpr std::uint32_t kTileStatusError = tile_reg::kStatusError;
    // Commands fetched per bus transaction.
    static constexpr std::uint32_t kFetchChunk = 32;

    tlm_utils::simple_target_socket<Controller> regs_socket;
    tlm_utils::simple_initiator_socket<Controller> bus_socket;
    sc_core::sc_out<bool> irq;

    // dma_regs_base / ppu_regs_base / pe_regs_base: global addresses of the DMA's, the
    // post-processing unit's and the SWIS PE array's register blocks (same layout:
    // DESC_ADDR_LO/HI, CTRL, STATUS). The global quantum
    // (tlmx::configure_global_quantum) must be set before construction.
    Controller(sc_core::sc_module_name name, const DigitalConfig& cfg, std::uint64_t dma_regs_base,
               std::uint64_t ppu_regs_base = kPostProcessBase, std::uint64_t pe_regs_base = kPeArrayBase);
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    const tlmx::RegisterFile& registers() const { return regs_; }

    // The exception that ended the controller's thread (a component it drove threw: an RTL twin's
    // broken input contract, a fault), null while none did. SystemC stops the simulation with it
    // as the process's "uncaught exception" report, which keeps only its text: the system rethrows
    // this one instead (System::run), its type and message intact.
    std::exception_ptr failure() const { return failure_; }

    // Waveform `state` values (docs/debugging.md).
    enum class WaveState : std::uint8_t { kIdle = 0, kFetch = 1, kExecute = 2, kFence = 3 };
    // Declares state, command, opcode, irq and error in `scope` and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);

private:
    struct Perf {
        std::uint64_t cycles = 0;
        std::uint32_t commands = 0, tile_runs = 0, dma_commands = 0;
    };

    void regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned regs_transport_dbg(tlm::tlm_generic_payload& t);
    void on_ctrl_write(std::uint32_t value);
    void drive_irq();  // SC_METHOD: the only writer of irq

    void thread();
    // Runs the list at CMD_BASE; returns the error and sets `index` to the failing command.
    ControllerError run_list(std::uint32_t& index, Perf& perf);
    ControllerError execute(const Command& c, std::uint64_t cmd_addr, Perf& perf);
    // Runs a descriptor on the DMA or the post-processing unit (same register layout); blocking.
    ControllerError run_engine(std::uint64_t regs, std::uint64_t desc_addr, std::uint32_t ctrl, ControllerError fail);
    ControllerError run_tile(const Command& c);
    void fence();
    void finish(ControllerError err, std::uint32_t index, const Perf& perf, const sc_core::sc_time& started);
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + bus_.local_time(); }
    void wave_state(WaveState s) {
        if (wave_) wave_->change(wave_vars_.state, now(), static_cast<std::uint64_t>(s));
    }

    const DigitalConfig cfg_;
    const std::uint64_t dma_regs_base_;
    const std::uint64_t ppu_regs_base_;
    const std::uint64_t pe_regs_base_;
    const sc_core::sc_time clock_;
    tlmx::RegisterFile regs_;
    tlmx::TimedInitiator bus_;
    tlm::tlm_generic_payload tile_start_;  // tile START is issued around the keeper (not blocking)
    std::array<Command, kFetchChunk> fetched_;

    sc_core::sc_event start_event_;
    sc_core::sc_event irq_event_;
    std::uint32_t irq_status_ = 0;  // the truth behind IRQ_STATUS (write-1-to-clear needs the old value)
    bool start_requested_ = false;  // set by the CTRL hook, served after the access (it needs the delay)
    bool irq_changed_ = false;
    bool abort_ = false;            // SOFT_RESET while BUSY: stop before the next command
    std::exception_ptr failure_;    // what ended the thread (failure())
    sc_core::sc_time tiles_done_;   // absolute time the last started tile finishes

    tlmx::WaveformRecorder* wave_ = nullptr;
    struct {
        tlmx::WaveformRecorder::Var state, command, opcode, irq, error;
    } wave_vars_{};
};

}  // namespace cimvp
