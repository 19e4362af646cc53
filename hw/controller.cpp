#include "hw/controller.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "hw/dma.h"

#include "hw/post_processing_unit.h"
#include "hw/swis_pe_array.h"
#include "tlm/error_report.h"

namespace cimvp {

// run_engine drives the DMA, the post-processing unit and the PE array through one register
// layout: the PPU and the PE array take it from hw/engine_registers.h, the DMA must match it.
static_assert(engine_regs::kDescAddrLo == dma_regs::kDescAddrLo && engine_regs::kDescAddrHi == dma_regs::kDescAddrHi &&
                  engine_regs::kCtrl == dma_regs::kCtrl && engine_regs::kStatus == dma_regs::kStatus &&
                  engine_regs::kCtrlStart == dma_regs::kCtrlStart && engine_regs::kStatusDone == dma_regs::kStatusDone &&
                  engine_regs::kStatusError == dma_regs::kStatusError,
              "the DMA shares the engines' register layout");

namespace {

using tlmx::Access;
using tlmx::RegisterSpec;

constexpr std::uint64_t kCommandBytes = sizeof(Command);

const char* error_name(ControllerError e) {
    switch (e) {
        case ControllerError::kNone: return "none";
        case ControllerError::kBadOpcode: return "bad opcode";
        case ControllerError::kFetch: return "fetch";
        case ControllerError::kDma: return "DMA";
        case ControllerError::kTile: return "tile";
        case ControllerError::kRegWrite: return "register write";
        case ControllerError::kPostProcess: return "post-processing";
        case ControllerError::kPeArray: return "PE array";
    }
    return "?";
}

}  // namespace

Controller::Controller(sc_core::sc_module_name name, const DigitalConfig& cfg, std::uint64_t dma_regs_base,
                       std::uint64_t ppu_regs_base, std::uint64_t pe_regs_base)
    : sc_core::sc_module(name),
      regs_socket("regs_socket"),
      bus_socket("bus_socket"),
      irq("irq"),
      cfg_(cfg),
      dma_regs_base_(dma_regs_base),
      ppu_regs_base_(ppu_regs_base),
      pe_regs_base_(pe_regs_base),
      clock_(cfg.clock_ns, sc_core::SC_NS),
      bus_(bus_socket, std::string(this->name()) + ".bus_socket") {
    if (!(cfg_.clock_ns > 0)) throw std::invalid_argument(std::string(this->name()) + ": clock_ns must be > 0");
    if (cfg_.controller_cycles_per_cmd < 0)
        throw std::invalid_argument(std::string(this->name()) + ": controller_cycles_per_cmd must be >= 0");
    using namespace controller_regs;
    regs_.set_report(kReportId, this->name());
    const std::uint32_t status_bits = kStatusBusy | kStatusDone | kStatusError;
    const std::uint32_t irq_bits = kIrqDone | kIrqError;
    regs_.add(RegisterSpec{"ID", kId, Access::kReadOnly, kIdValue});
    regs_.add(RegisterSpec{"VERSION", kVersion, Access::kReadOnly, kVersionValue});
    regs_.add(RegisterSpec{"CTRL", kCtrl, Access::kWriteOnly, 0, kCtrlStart | kCtrlSoftReset}, {},
              [this](std::uint32_t v) { on_ctrl_write(v); });
    regs_.add(RegisterSpec{"STATUS", kStatus, Access::kReadOnly, 0, status_bits});
    regs_.add(RegisterSpec{"ERROR", kError, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"ERROR_INDEX", kErrorIndex, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"CMD_BASE_LO", kCmdBaseLo, Access::kReadWrite, 0});
    regs_.add(RegisterSpec{"CMD_BASE_HI", kCmdBaseHi, Access::kReadWrite, 0});
    regs_.add(RegisterSpec{"CMD_COUNT", kCmdCount, Access::kReadWrite, 0});
    regs_.add(RegisterSpec{"IRQ_ENABLE", kIrqEnable, Access::kReadWrite, 0, irq_bits}, {},
              [this](std::uint32_t) { irq_changed_ = true; });
    regs_.add(RegisterSpec{"IRQ_STATUS", kIrqStatus, Access::kReadWrite, 0, irq_bits}, {}, [this](std::uint32_t v) {
        irq_status_ &= ~v;
        regs_.set(kIrqStatus, irq_status_);
        irq_changed_ = true;
    });
    regs_.add(RegisterSpec{"PERF_CYCLES_LO", kPerfCyclesLo, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PERF_CYCLES_HI", kPerfCyclesHi, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PERF_COMMANDS", kPerfCommands, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PERF_TILE_RUNS", kPerfTileRuns, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PERF_DMA_COMMANDS", kPerfDmaCommands, Access::kReadOnly, 0});
    // A register access costs one digital cycle: a host polling STATUS advances its time.
    regs_.set_access_latency(clock_);

    regs_socket.register_b_transport(this, &Controller::regs_b_transport);
    regs_socket.register_transport_dbg(this, &Controller::regs_transport_dbg);

    SC_HAS_PROCESS(Controller);
    SC_THREAD(thread);
    SC_METHOD(drive_irq);
    sensitive << irq_event_;
}

void Controller::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_vars_.state = w.declare(scope, "state", 2);
    wave_vars_.command = w.declare(scope, "command", 32);
    wave_vars_.opcode = w.declare(scope, "opcode", 8);
    wave_vars_.irq = w.declare(scope, "irq", 1);
    wave_vars_.error = w.declare(scope, "error", 8);
}

void Controller::regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    start_requested_ = false;
    irq_changed_ = false;
    regs_.transport(t, delay);
    // The access happens at the caller's local time: effects become visible there.
    if (irq_changed_) irq_event_.notify(delay);
    if (start_requested_) start_event_.notify(delay);
}

unsigned Controller::regs_transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

void Controller::on_ctrl_write(std::uint32_t value) {
    using namespace controller_regs;
    const bool busy = (regs_.get(kStatus) & kStatusBusy) != 0;
    if (value & kCtrlSoftReset) {
        // A running list stops before its next command; BUSY drops when it has.
        if (busy) abort_ = true;
        regs_.set(kStatus, busy ? kStatusBusy : 0);
        regs_.set(kError, 0);
        regs_.set(kErrorIndex, 0);
        irq_status_ = 0;
        regs_.set(kIrqStatus, 0);
        irq_changed_ = true;
    }
    if ((value & kCtrlStart) && !busy) {
        regs_.set(kStatus, kStatusBusy);
        regs_.set(kError, 0);
        regs_.set(kErrorIndex, 0);
        for (std::uint32_t perf : {kPerfCyclesLo, kPerfCyclesHi, kPerfCommands, kPerfTileRuns, kPerfDmaCommands})
            regs_.set(perf, 0);
        start_requested_ = true;
    }
}

void Controller::drive_irq() {
    const bool level = (irq_status_ & regs_.get(controller_regs::kIrqEnable)) != 0;
    irq.write(level);
    if (wave_) wave_->change(wave_vars_.irq, sc_core::sc_time_stamp(), level);
}

void Controller::thread() {
    try {
        for (;;) {
            sc_core::wait(start_event_);
            bus_.keeper().reset();
            const sc_core::sc_time started = sc_core::sc_time_stamp();
            tiles_done_ = started;
            if (wave_) wave_->change(wave_vars_.error, started, 0);
            Perf perf;
            std::uint32_t index = 0;
            const ControllerError err = run_list(index, perf);
            fence();  // implicit at the end of every list
            bus_.sync();
            finish(err, index, perf, started);
        }
    } catch (const sc_core::sc_unwind_exception&) {
        throw;  // SystemC ending the thread: not a failure
    } catch (...) {
        failure_ = std::current_exception();
        throw;  // SystemC stops the simulation with it, as before
    }
}

ControllerError Controller::run_list(std::uint32_t& index, Perf& perf) {
    using namespace controller_regs;
    const std::uint64_t base = std::uint64_t{regs_.get(kCmdBaseHi)} << 32 | regs_.get(kCmdBaseLo);
    const std::uint32_t count = regs_.get(kCmdCount);
    const sc_core::sc_time decode = clock_ * static_cast<double>(cfg_.controller_cycles_per_cmd);
    std::uint32_t first = 0, have = 0;  // fetched_ holds commands [first, first + have)
    std::uint32_t chunk = kFetchChunk;
    for (std::uint32_t i = 0; i < count && !abort_; ++i) {
        const std::uint64_t addr = base + i * kCommandBytes;
        while (i >= first + have) {
            wave_state(WaveState::kFetch);
            const std::uint32_t n = std::min(chunk, count - i);
            if (bus_.read(addr, fetched_.data(), n * kCommandBytes) == tlm::TLM_OK_RESPONSE) {
                first = i;
                have = n;
            } else if (n == 1) {
                index = i;
                return ControllerError::kFetch;
            } else {
                chunk = 1;  // fetch one by one to find the failing command; the ones before it still run
            }
        }
        const Command& c = fetched_[i - first];
        if (wave_) {
            wave_->change(wave_vars_.command, now(), i);
            wave_->change(wave_vars_.opcode, now(), c.opcode);
            wave_state(WaveState::kExecute);
        }
        bus_.add_delay(decode);
        const ControllerError err = execute(c, addr, perf);
        if (err != ControllerError::kNone) {
            index = i;
            return err;
        }
        ++perf.commands;
        if (bus_.keeper().need_sync()) bus_.sync();
        if (c.opcode == static_cast<std::uint32_t>(Opcode::kEnd)) break;
    }
    return ControllerError::kNone;
}

ControllerError Controller::execute(const Command& c, std::uint64_t cmd_addr, Perf& perf) {
    switch (c.opcode) {
        case static_cast<std::uint32_t>(Opcode::kEnd):
            return ControllerError::kNone;
        case static_cast<std::uint32_t>(Opcode::kDma): {
            const ControllerError err = run_engine(dma_regs_base_, cmd_addr + kDmaDescriptorOffsetInCommand,
                                                   dma_regs::kCtrlStart, ControllerError::kDma);
            if (err == ControllerError::kNone) ++perf.dma_commands;
            return err;
        }
        case static_cast<std::uint32_t>(Opcode::kIm2col): {
            const ControllerError err =
                run_engine(dma_regs_base_, cmd_addr + kDmaDescriptorOffsetInCommand,
                           dma_regs::kCtrlStart | dma_regs::kCtrlIm2col, ControllerError::kDma);
            if (err == ControllerError::kNone) ++perf.dma_commands;
            return err;
        }
        case static_cast<std::uint32_t>(Opcode::kPostProcess):
            return run_engine(ppu_regs_base_, c.addr_a, dma_regs::kCtrlStart, ControllerError::kPostProcess);
        case static_cast<std::uint32_t>(Opcode::kTensorOp):
            return run_engine(ppu_regs_base_, c.addr_a, dma_regs::kCtrlStart | ppu_regs::kCtrlTensorOp,
                              ControllerError::kPostProcess);
        case static_cast<std::uint32_t>(Opcode::kPeRun):
            return run_engine(pe_regs_base_, c.addr_a, dma_regs::kCtrlStart, ControllerError::kPeArray);
        case static_cast<std::uint32_t>(Opcode::kTileRun): {
            const ControllerError err = run_tile(c);
            if (err == ControllerError::kNone) ++perf.tile_runs;
            return err;
        }
        case static_cast<std::uint32_t>(Opcode::kRegWrite):
            return bus_.write32(c.addr_a, c.arg[0]) == tlm::TLM_OK_RESPONSE ? ControllerError::kNone
                                                                             : ControllerError::kRegWrite;
        case static_cast<std::uint32_t>(Opcode::kFence):
            fence();
            return ControllerError::kNone;
        default:
            return ControllerError::kBadOpcode;
    }
}

ControllerError Controller::run_engine(std::uint64_t r, std::uint64_t desc_addr, std::uint32_t ctrl,
                                       ControllerError fail) {
    using namespace dma_regs;
    // The DMA runs inside the START write: the keeper's local time comes back with the transfer in it.
    if (bus_.write32(r + kDescAddrLo, static_cast<std::uint32_t>(desc_addr)) != tlm::TLM_OK_RESPONSE ||
        bus_.write32(r + kDescAddrHi, static_cast<std::uint32_t>(desc_addr >> 32)) != tlm::TLM_OK_RESPONSE ||
        bus_.write32(r + kCtrl, ctrl) != tlm::TLM_OK_RESPONSE)
        return fail;
    std::uint32_t status = 0;
    if (bus_.read32(r + kStatus, status) != tlm::TLM_OK_RESPONSE || (status & kStatusError) ||
        !(status & kStatusDone))
        return fail;
    return ControllerError::kNone;
}

ControllerError Controller::run_tile(const Command& c) {
    const std::uint64_t regs = c.addr_a;
    if (bus_.write32(regs + kTileVectors, c.arg[0]) != tlm::TLM_OK_RESPONSE ||
        bus_.write32(regs + kTileVectorBase, c.arg[1]) != tlm::TLM_OK_RESPONSE)
        return ControllerError::kTile;

    // START goes around the keeper: the delay it returns is when the tile finishes,
    // not when the controller may go on.
    unsigned char start[4] = {static_cast<unsigned char>(kTileCtrlStart), 0, 0, 0};
    tlm::tlm_generic_payload& t = tile_start_;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(regs + kTileCtrl);
    t.set_data_ptr(start);
    t.set_data_length(4);
    t.set_streaming_width(4);
    t.set_byte_enable_ptr(nullptr);
    t.set_byte_enable_length(0);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time done = bus_.local_time();
    bus_socket->b_transport(t, done);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) return ControllerError::kTile;
    tiles_done_ = std::max(tiles_done_, sc_core::sc_time_stamp() + done);

    std::uint32_t status = 0;
    if (bus_.read32(regs + kTileStatus, status) != tlm::TLM_OK_RESPONSE || (status & kTileStatusError))
        return ControllerError::kTile;
    return ControllerError::kNone;
}

void Controller::fence() {
    const sc_core::sc_time t = now();
    if (tiles_done_ > t) {
        wave_state(WaveState::kFence);
        bus_.add_delay(tiles_done_ - t);
    }
    if (bus_.keeper().need_sync()) bus_.sync();
}

void Controller::finish(ControllerError err, std::uint32_t index, const Perf& perf, const sc_core::sc_time& started) {
    using namespace controller_regs;
    // Whole cycles: a partly used last cycle counts.
    const double cycles = std::ceil((sc_core::sc_time_stamp() - started) / clock_ - 1e-9);
    const auto cyc = static_cast<std::uint64_t>(std::max(0.0, cycles));
    regs_.set(kPerfCyclesLo, static_cast<std::uint32_t>(cyc));
    regs_.set(kPerfCyclesHi, static_cast<std::uint32_t>(cyc >> 32));
    regs_.set(kPerfCommands, perf.commands);
    regs_.set(kPerfTileRuns, perf.tile_runs);
    regs_.set(kPerfDmaCommands, perf.dma_commands);
    wave_state(WaveState::kIdle);
    if (wave_) wave_->change(wave_vars_.error, now(), static_cast<std::uint32_t>(err));

    if (abort_) {  // SOFT_RESET during the run: no DONE, no ERROR, no interrupt
        abort_ = false;
        regs_.set(kStatus, 0);
        return;
    }
    if (err == ControllerError::kNone) {
        regs_.set(kStatus, kStatusDone);
        irq_status_ |= kIrqDone;
    } else {
        const std::uint64_t list = std::uint64_t{regs_.get(kCmdBaseHi)} << 32 | regs_.get(kCmdBaseLo);
        tlmx::report_job_error(kReportId, name(),
                               "command list at " + tlmx::hex_address(list) + ", command " + std::to_string(index) + ",",
                               static_cast<std::uint32_t>(err), error_name(err));
        regs_.set(kStatus, kStatusError);
        regs_.set(kError, static_cast<std::uint32_t>(err));
        regs_.set(kErrorIndex, index);
        irq_status_ |= kIrqError;
    }
    regs_.set(kIrqStatus, irq_status_);
    irq_event_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace cimvp
