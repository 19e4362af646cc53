// The command list the controller fetches from DRAM and the DMA descriptor:
// the binary contract between the host driver and the platform
// (docs/registers.md). Little-endian, fixed size.
#pragma once

#include <cstdint>

namespace cimvp {

enum class Opcode : std::uint32_t {
    kEnd = 0,        // stop the list here (optional: CMD_COUNT also bounds it)
    kDma = 1,        // run the DMA descriptor embedded in this command
    kTileRun = 2,    // start a CIM tile: addr_a = the tile's register base
    kRegWrite = 3,   // 32-bit write: addr_a = address, arg[0] = value
    kFence = 4,      // wait until every started tile has finished
};

// A DMA descriptor: a 2D strided copy of `rows` rows of `row_bytes` bytes.
struct DmaDescriptor {
    std::uint64_t src = 0;
    std::uint64_t dst = 0;
    std::uint32_t row_bytes = 0;
    std::uint32_t rows = 1;
    std::uint32_t src_stride = 0;  // bytes between row starts
    std::uint32_t dst_stride = 0;
};
static_assert(sizeof(DmaDescriptor) == 32, "descriptor layout is part of the register contract");

// One command: 48 bytes. For kDma the descriptor starts at byte 8.
struct Command {
    std::uint32_t opcode = 0;
    std::uint32_t flags = 0;
    std::uint64_t addr_a = 0;
    std::uint64_t addr_b = 0;
    std::uint32_t arg[6] = {};
};
static_assert(sizeof(Command) == 48, "command layout is part of the register contract");
constexpr std::uint64_t kDmaDescriptorOffsetInCommand = 8;

// kTileRun: arg[0] = vectors, arg[1] = first vector index (read-noise key).

inline Command make_dma(const DmaDescriptor& d) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kDma);
    c.addr_a = d.src;
    c.addr_b = d.dst;
    c.arg[0] = d.row_bytes;
    c.arg[1] = d.rows;
    c.arg[2] = d.src_stride;
    c.arg[3] = d.dst_stride;
    return c;
}

inline Command make_tile_run(std::uint64_t tile_regs, std::uint32_t vectors, std::uint32_t first_vector) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kTileRun);
    c.addr_a = tile_regs;
    c.arg[0] = vectors;
    c.arg[1] = first_vector;
    return c;
}

inline Command make_reg_write(std::uint64_t addr, std::uint32_t value) {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kRegWrite);
    c.addr_a = addr;
    c.arg[0] = value;
    return c;
}

inline Command make_fence() {
    Command c;
    c.opcode = static_cast<std::uint32_t>(Opcode::kFence);
    return c;
}

}  // namespace cimvp
