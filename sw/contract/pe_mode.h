// The SWIS PE's contract in one place (docs/swis.md, docs/registers.md "SWIS PE array"):
// the forms a PE runs (the descriptor's mode field), the cycles one weight group takes
// in each, the cycles of one tile of the output-stationary array, and the per-cycle
// energy defaults. The SystemC array (hw/swis_pe_array), the cycle model of one PE
// (hw/swis_pe), the RTL adapters and the analytic model (sw/contract/swis_perf) all
// take them from here. No SystemC.
#pragma once

#include <cstdint>

namespace cimvp {

enum class PeMode : std::uint8_t {
    kSingleShift = 0,  // SWIS or SWIS-C, one shift position per cycle: N cycles per group
    kDoubleShift = 1,  // two shift positions per cycle: ceil(N / 2) cycles
    kActSerial = 2,    // "Act": activations bit-serial from the MSB, top N bits only; weights int8 in parallel
    kWgtSerial = 3,    // "Wgt": weights bit-serial over a window of N bit positions shared by the layer
    kFixedPoint = 4,   // "FXP": 8-bit x 8-bit in one cycle
};
constexpr int kPeModes = 5;

// "ss", "ds", "act", "wgt", "fxp"
inline const char* pe_mode_name(PeMode m) {
    switch (m) {
        case PeMode::kSingleShift:
            return "ss";
        case PeMode::kDoubleShift:
            return "ds";
        case PeMode::kActSerial:
            return "act";
        case PeMode::kWgtSerial:
            return "wgt";
        case PeMode::kFixedPoint:
            return "fxp";
    }
    return "?";
}
inline bool valid_pe_mode(std::uint32_t m) { return m < static_cast<std::uint32_t>(kPeModes); }

// Cycles one PE spends on one group at N shifts / bits: SS, Act, Wgt n; DS ceil(n / 2);
// FXP 1 (n = 0: 0 cycles except FXP).
constexpr int pe_cycles_per_group(PeMode mode, int n) {
    switch (mode) {
        case PeMode::kDoubleShift:
            return (n + 1) / 2;
        case PeMode::kFixedPoint:
            return 1;
        default:
            return n;
    }
}

// Cycles of one tile (up to rows output pixels x cols filters) of the output-stationary
// array: every group of a filter streams through in pe_cycles_per_group cycles, plus the
// systolic fill and drain skew of rows + cols - 2, paid by every tile, ragged or not.
// The same for any PE that takes cycles_per_group cycles per group (sw/contract/swis_perf.h's
// baselines without a form here).
constexpr std::uint64_t tile_cycles(int cycles_per_group, std::uint64_t groups_per_filter, int rows, int cols) {
    return groups_per_filter * static_cast<std::uint64_t>(cycles_per_group) + static_cast<std::uint64_t>(rows + cols - 2);
}
constexpr std::uint64_t pe_tile_cycles(PeMode mode, int n, std::uint64_t groups_per_filter, int rows, int cols) {
    return tile_cycles(pe_cycles_per_group(mode, n), groups_per_filter, rows, cols);
}

// Per-event energy defaults (28 nm), derived from the paper's Table 4 (ResNet-18
// ImageNet rows; docs/swis.md "Energy" shows the arithmetic): one busy PE cycle
// of a 4-lane PE, in pJ. The defaults of hw/arch_config.h PeArrayConfig.
// - bit-serial single-shift PE (SS, C-SS, Act, Wgt): the energy one more
//   shift / bit costs per frame (Act 6 -> 7: 0.299 mJ, Wgt 4 -> 6: 0.300 mJ per
//   bit, C-SS 2 -> 4: 0.315 mJ per shift) over ResNet-18's 4.53e8 conv group steps.
constexpr double kPeSingleShiftPj = 0.67;
// - double-shift PE: C-DS 2 -> 4 shifts (one more DS cycle): 0.551 mJ / 4.53e8;
//   1.8x the single-shift PE per cycle for two shifts per cycle.
constexpr double kPeDoubleShiftPj = 1.22;
// - 8-bit fixed-point PE (4 multipliers): FXP's frame energy minus Act at 7
//   bits' (the same 8-bit weights and buffers) plus 7 Act cycles: 3.65 pJ,
//   5.5x the bit-serial PE (the paper's section 3.1 puts the single-shift PE's
//   energy break-even with fixed point near 4 shifts, i.e. about 4x).
constexpr double kPeFixedPointPj = 3.65;
// The array's 64 KB buffers: Horowitz (ISSCC 2014, 45 nm) 20 pJ per 64-bit access
// of a 32 KB SRAM = 2.5 pJ/B, any of the three buffers, read or write.
constexpr double kBufferPjPerByte = 2.5;

// A SWIS weight record in memory: one group of 4 weights (hw/swis_pe.h packs it).
constexpr int kSwisRecordBytes = 8;

// The smallest chunk of a job the array runs: it splits a job into chunks of whole pixel tiles
// (min(rows, vectors) im2col vectors of K bytes) and filter tiles (the weight records of
// min(cols, filters) filters, `groups` records of record_bytes each, and their int64 accumulators for
// a pixel tile). A buffer below its share of one chunk ends the job in ERROR 5 (buffer overflow,
// hw/swis_pe_array.cpp); the compilers refuse such a layer before the run (check_pe_buffers,
// sw/workloads/trace_network.cpp), naming the pe_array key.
struct PeChunkBytes {
    std::uint64_t act = 0, weights = 0, out = 0;
};
constexpr PeChunkBytes pe_min_chunk_bytes(std::uint64_t rows, std::uint64_t cols, std::uint64_t K,
                                          std::uint64_t groups, std::uint64_t record_bytes, std::uint64_t vectors,
                                          std::uint64_t filters) {
    const std::uint64_t pixels = rows < vectors ? rows : vectors;
    const std::uint64_t tile_filters = cols < filters ? cols : filters;
    return {pixels * K, tile_filters * groups * record_bytes, pixels * tile_filters * 8};
}

}  // namespace cimvp
