// The platform's address map, derived once from the configuration and shared
// by the platform builder and the host driver (docs/registers.md).
#pragma once

#include <cstdint>

#include "hw/arch_config.h"

namespace cimvp {

constexpr std::uint64_t kDramBase = 0x0000'0000;
constexpr std::uint64_t kControllerBase = 0x4000'0000;
constexpr std::uint64_t kDmaBase = 0x4000'1000;
constexpr std::uint64_t kPostProcessBase = 0x4000'2000;
constexpr std::uint64_t kPeArrayBase = 0x4000'3000;  // SWIS PE array registers
// The SWIS PE array's buffers (activation, weight, output), read-only: SwisPeArray::windows().
constexpr std::uint64_t kPeArrayBufferBase = 0x4100'0000;
// The on-chip global buffer (platform.global_buffer), when its size is not 0.
constexpr std::uint64_t kGlobalBufferBase = 0x8000'0000;
constexpr std::uint64_t kMmioWindow = 0x1000;
constexpr std::uint64_t kTileBase = 0x1'0000'0000;
constexpr std::uint64_t kWindowAlign = 0x1000;

// v rounded up to a multiple of a (a > 0): window offsets, allocations, buffer layouts.
constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// Bytes per ADC table entry: step_fx and base_fx, each int64.
constexpr std::uint64_t kAdcEntryBytes = 16;
// Bytes per output-buffer entry: one int64 partial accumulator.
constexpr std::uint64_t kAccEntryBytes = 8;

struct TileWindows {
    std::uint64_t regs = 0, crossbar = 0, adc = 0, input = 0, output = 0;  // offsets in a tile's window
    std::uint64_t crossbar_size = 0, adc_size = 0, input_size = 0, output_size = 0;
    std::uint64_t input_bank_size = 0;  // input_size / input_banks
    int input_banks = 1;                // 2 with platform.ping_pong
    std::uint64_t output_window = 0;  // output buffer, its accumulate-on-write alias, the partial multipliers
    std::uint64_t scale_size = 0;      // partial multipliers: one int64 per column
    std::uint64_t stride = 0;          // distance between tiles (a power of two)
};

class AddressMap {
public:
    explicit AddressMap(const ArchConfig& cfg);

    std::uint64_t dram_size() const { return dram_size_; }
    std::uint64_t global_buffer_size() const { return global_buffer_size_; }
    const TileWindows& tile() const { return tw_; }
    std::uint64_t tile_base(int i) const { return kTileBase + static_cast<std::uint64_t>(i) * tw_.stride; }
    std::uint64_t tile_regs(int i) const { return tile_base(i) + tw_.regs; }
    std::uint64_t tile_crossbar(int i) const { return tile_base(i) + tw_.crossbar; }
    std::uint64_t tile_adc(int i) const { return tile_base(i) + tw_.adc; }
    std::uint64_t tile_input(int i) const { return tile_base(i) + tw_.input; }
    // Bank b (0 or 1) of a ping-pong input buffer; bank 0 is tile_input(i).
    std::uint64_t tile_input_bank(int i, int b) const {
        return tile_input(i) + static_cast<std::uint64_t>(b) * tw_.input_bank_size;
    }
    int input_banks() const { return tw_.input_banks; }
    std::uint64_t tile_output(int i) const { return tile_base(i) + tw_.output; }
    // Writes here add into the output buffer instead of overwriting it.
    std::uint64_t tile_output_accumulate(int i) const { return tile_output(i) + tw_.output_size; }
    // Per-output multipliers of the partials (column-wise scales), int64, default 1.
    std::uint64_t tile_output_scale(int i) const { return tile_output(i) + 2 * tw_.output_size; }

private:
    std::uint64_t dram_size_;
    std::uint64_t global_buffer_size_;
    TileWindows tw_;
};

}  // namespace cimvp
