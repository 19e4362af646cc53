// The register block the descriptor-driven engines share (the post-processing
// unit and the SWIS PE array; the DMA has the same offsets and bits plus its
// own): ID, DESC_ADDR_LO/HI, CTRL.START, STATUS, ERROR. The controller drives
// every engine the same way (Controller::run_engine).
#pragma once

#include <cstdint>

#include "tlm/register_file.h"

namespace cimvp::engine_regs {

constexpr std::uint32_t kId = 0x00;          // RO
constexpr std::uint32_t kDescAddrLo = 0x04;  // RW
constexpr std::uint32_t kDescAddrHi = 0x08;  // RW
constexpr std::uint32_t kCtrl = 0x0C;        // WO bit0 START
constexpr std::uint32_t kStatus = 0x10;      // RO bit1 DONE, bit2 ERROR
constexpr std::uint32_t kError = 0x14;       // RO, the engine's error code
constexpr std::uint32_t kCtrlStart = 1u << 0;
constexpr std::uint32_t kStatusDone = 1u << 1;
constexpr std::uint32_t kStatusError = 1u << 2;

// Adds the shared registers; a bus write of CTRL.START sets *start_requested
// (the engine serves it after the access, when it knows the access's delay). An engine with
// CTRL bits of its own names them in extra_ctrl and gets each CTRL write in *ctrl_written.
inline void add(tlmx::RegisterFile& regs, std::uint32_t id, bool* start_requested, std::uint32_t extra_ctrl = 0,
                std::uint32_t* ctrl_written = nullptr) {
    using tlmx::Access;
    using tlmx::RegisterSpec;
    regs.add(RegisterSpec{"ID", kId, Access::kReadOnly, id});
    regs.add(RegisterSpec{"DESC_ADDR_LO", kDescAddrLo, Access::kReadWrite, 0});
    regs.add(RegisterSpec{"DESC_ADDR_HI", kDescAddrHi, Access::kReadWrite, 0});
    regs.add(RegisterSpec{"CTRL", kCtrl, Access::kWriteOnly, 0, kCtrlStart | extra_ctrl}, {},
             [start_requested, ctrl_written](std::uint32_t v) {
                 *start_requested = (v & kCtrlStart) != 0;
                 if (ctrl_written) *ctrl_written = v;
             });
    regs.add(RegisterSpec{"STATUS", kStatus, Access::kReadOnly, 0, kStatusDone | kStatusError});
    regs.add(RegisterSpec{"ERROR", kError, Access::kReadOnly, 0});
}

// The descriptor address last written to DESC_ADDR_LO/HI.
inline std::uint64_t descriptor_address(const tlmx::RegisterFile& regs) {
    return std::uint64_t{regs.get(kDescAddrHi)} << 32 | regs.get(kDescAddrLo);
}

}  // namespace cimvp::engine_regs
