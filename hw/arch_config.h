// Architecture configuration: one plain struct per block, filled from JSON by
// config_loader and validated there once. Blocks never read JSON.
// Every field and its default/source is documented in docs/config.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "hw/technology.h"
#include "sw/contract/pe_mode.h"

namespace cimvp {

// How a signed weight is stored in cells (docs/numerics.md, "Cells"): offset encoded
// (w + 2^(w_bits-1), the offset removed digitally), or differentially: |w| in a positive column
// group when w > 0, in a negative column group when w < 0 (two columns per weight slice).
enum class CellMapping { kOffset, kDifferential };

struct CrossbarConfig {
    int rows = 128;                // R: word lines per macro
    int cols = 128;                // C: bit lines per macro
    int cell_bits = 1;             // bits stored per cell (1 or 2)
    int dac_bits = 1;              // input bits applied per read
    CellMapping mapping = CellMapping::kOffset;  // offset encoding or a differential column pair
    double read_ns = 100.0;        // one array read (word-line pulse + settle)
    double read_pj_per_cell = 0.0018;   // array read energy per active cell
    double read_pj_per_column = 0.0;    // per column read: its bit line's charge (grows with rows)
    double write_ns_per_row = 50.0;     // programming one row of cells
    double write_pj_per_cell = 1.0;     // programming energy per cell
};

struct NonIdealConfig {
    double conductance_sigma = 0.0;  // log-normal: G' = G * exp(theta), theta ~ N(0, sigma^2)
    double stuck_at_rate = 0.0;      // fraction of cells stuck (half at 0, half at max level)
    double read_noise_sigma = 0.0;   // additive Gaussian on each column partial sum, in LSB
    std::uint64_t seed = 1;          // every draw derives from this seed
    bool enabled() const { return conductance_sigma > 0 || stuck_at_rate > 0 || read_noise_sigma > 0; }
};

enum class AdcStepMode { kColumn, kLayer };
enum class AdcArchitecture { kSar, kFlash };

struct AdcConfig {
    int bits = 8;                    // resolution
    AdcArchitecture architecture = AdcArchitecture::kSar;  // SAR: one cycle per bit; flash: one cycle
    int adcs_per_macro = 8;          // columns share ADCs through a mux
    int frac_bits = 8;               // fixed-point fraction bits of step/base/psum
    double cycle_ns = 1.0;           // one SAR comparison
    double pj_per_conversion = 1.67; // at `bits`; see docs/config.md
    AdcStepMode step_mode = AdcStepMode::kColumn;  // per-column step or one per layer
    double clip_sigmas = 6.0;        // calibration: range = mean +- clip_sigmas * std

    // Cycles of `cycle_ns` one conversion takes.
    int cycles_per_conversion() const { return architecture == AdcArchitecture::kFlash ? 1 : bits; }
};

struct DigitalConfig {
    double clock_ns = 1.0;           // digital clock (shift-add, controller, PEs)
    double shift_add_pj = 0.1;       // one shift-and-add of one column value
    int controller_cycles_per_cmd = 4;  // fetch + decode of one command
    double post_process_pj = 3.2;    // one output of the post-processing unit (multiply-add, clamp)
    int post_process_lanes = 16;     // outputs the post-processing unit finishes per clock
};

struct MemoryConfig {
    std::uint64_t size_bytes = 0;
    double latency_ns = 0.0;         // per access
    double bytes_per_ns = 1.0;       // bandwidth (GB/s)
    double read_pj_per_byte = 0.0;
    double write_pj_per_byte = 0.0;
    bool dmi = true;                 // grant direct memory interface
};

struct DmaConfig {
    double setup_ns = 20.0;          // descriptor fetch + decode
    double bytes_per_ns = 16.0;      // engine bandwidth (GB/s)
    double pj_per_byte = 0.5;        // engine energy (excludes the memories)
};

struct PlatformConfig {
    int tiles = 256;                 // CIM tiles (one macro each)
    double quantum_ns = 1000.0;      // tlm_quantumkeeper global quantum
    bool check_protocol = false;     // a TLM-2.0 protocol checker on every router link (docs/protocol-checks.md)
    MemoryConfig dram;
    MemoryConfig input_buffer;       // per tile (per bank with ping_pong)
    bool ping_pong = false;          // two input banks per tile: the DMA fills one while the tile reads the other
    MemoryConfig output_buffer;      // per tile
    // On-chip SRAM for the network runner's activations, accumulators and staging (size 0: none).
    MemoryConfig global_buffer;
};

// The SWIS PE array (hw/swis_pe_array.h): rows x cols output-stationary PEs and their buffers.
struct PeArrayConfig {
    int rows = 8;                                   // output pixels computed at once
    int cols = 8;                                   // filters computed at once
    std::uint64_t act_buffer_bytes = 64 * 1024;     // activation buffer
    std::uint64_t weight_buffer_bytes = 64 * 1024;  // weight buffer
    std::uint64_t out_buffer_bytes = 16 * 1024;     // output buffer (int64 accumulators)
    double bytes_per_ns = 16.0;                     // buffer fill/drain port
    double pj_per_cycle_ss = kPeSingleShiftPj;         // one busy PE cycle, single shift
    double pj_per_cycle_ds = kPeDoubleShiftPj;         // double shift
    double pj_per_cycle_bitserial = kPeSingleShiftPj;  // Act and Wgt baselines
    double pj_per_cycle_fxp = kPeFixedPointPj;         // 8-bit fixed point
    double buffer_pj_per_byte = kBufferPjPerByte;      // any of the three buffers, read or write

    // The energy of one busy PE cycle in `mode`: which of the fields above applies.
    double pj_per_cycle(PeMode mode) const {
        switch (mode) {
            case PeMode::kSingleShift:
                return pj_per_cycle_ss;
            case PeMode::kDoubleShift:
                return pj_per_cycle_ds;
            case PeMode::kActSerial:
            case PeMode::kWgtSerial:
                return pj_per_cycle_bitserial;
            case PeMode::kFixedPoint:
                return pj_per_cycle_fxp;
        }
        return 0;
    }
};

struct ArchConfig {
    std::string source = "<defaults>";  // file the config came from (for messages)
    CrossbarConfig crossbar;
    NonIdealConfig nonideal;
    AdcConfig adc;
    DigitalConfig digital;
    DmaConfig dma;
    PlatformConfig platform;
    PeArrayConfig pe_array;
    // The technology the cost figures are derived from (hw/cost_model.h, docs/costs.md), and the cost
    // keys ("adc.pj_per_conversion", ...) the config sets to another number than the derived one.
    TechnologyConfig technology;
    std::vector<std::string> cost_overrides;

    ArchConfig();
};

// The ranges every valid configuration fits: the loader (sw/formats/config_loader.h,
// validate()) enforces them and the hardware models may rely on them
// (docs/config.md lists them per key).
namespace config_limits {
inline constexpr int kMinArrayDim = 1;  // crossbar.rows, crossbar.cols
inline constexpr int kMaxArrayDim = 4096;
inline constexpr int kMinCellBits = 1;
inline constexpr int kMaxCellBits = 2;
inline constexpr int kMinDacBits = 1;
inline constexpr int kMaxDacBits = 8;
inline constexpr int kMinAdcBits = 1;
inline constexpr int kMaxAdcBits = 16;
inline constexpr int kMinAdcsPerMacro = 1;  // upper bound: crossbar.cols
inline constexpr int kMinFracBits = 0;
inline constexpr int kMaxFracBits = 16;
inline constexpr int kMinControllerCycles = 0;
inline constexpr int kMaxControllerCycles = 1000000;
inline constexpr int kMinLanes = 1;  // digital.post_process_lanes
inline constexpr int kMaxLanes = 4096;
inline constexpr int kMinTiles = 1;
// A weights-resident chip holds every layer: VGG-16 (CIFAR) takes 7,196 128 x 128 one-bit arrays.
inline constexpr int kMaxTiles = 16384;
inline constexpr double kMinSigma = 0.0;  // nonideal.*_sigma
inline constexpr double kMaxSigma = 5.0;
// Timing and energy of one event: finite and bounded, so that a run of in-range values ends in
// a simulated time and an energy a 64-bit time and a double hold exactly enough (docs/config.md).
inline constexpr double kMaxEventNs = 1e9;        // *_ns: at most one second per event
inline constexpr double kMinBytesPerNs = 1e-3;    // *.bytes_per_ns: 1 MB/s ..
inline constexpr double kMaxBytesPerNs = 1e6;     // .. 1 PB/s
inline constexpr double kMaxEventPj = 1e9;        // energies: at most 1 mJ per event
inline constexpr double kMaxClipSigmas = 100.0;   // adc.clip_sigmas
inline constexpr double kMinStuckAtRate = 0.0;
inline constexpr double kMaxStuckAtRate = 1.0;
inline constexpr std::uint64_t kMinMemoryBytes = 1;
// DRAM sits below the MMIO windows at 0x4000_0000 (hw/address_map.h).
inline constexpr std::uint64_t kMaxDramBytes = std::uint64_t{1} << 30;  // 1 GiB
// Per-tile buffers; keeps the tile windows (and 16384 of them) far from 64-bit overflow.
inline constexpr std::uint64_t kMaxBufferBytes = std::uint64_t{1} << 24;  // 16 MiB
inline constexpr std::uint64_t kBufferAlignBytes = 8;                     // input/output buffer sizes
// The global buffer's window at 0x8000_0000 ends below the tiles at 2^32 (hw/address_map.h); 0: none.
inline constexpr std::uint64_t kMinGlobalBufferBytes = 0;
inline constexpr std::uint64_t kMaxGlobalBufferBytes = std::uint64_t{1} << 28;  // 256 MiB
inline constexpr std::uint64_t kMinSeed = 0;
inline constexpr std::uint64_t kMaxSeed = std::numeric_limits<std::uint64_t>::max();
// Every memory the platform models together (modeled_memory_bytes): a config past it is refused
// when it is validated instead of failing to allocate when the platform is built.
inline constexpr std::uint64_t kMaxModeledMemoryBytes = std::uint64_t{4} << 30;  // 4 GiB
}  // namespace config_limits

// The bytes of memory the platform of `cfg` allocates, bounded above: DRAM, the global buffer, per
// tile its input and output buffers and a byte per crossbar cell, and the PE array's buffers.
inline std::uint64_t modeled_memory_bytes(const ArchConfig& cfg) {
    const auto& p = cfg.platform;
    const std::uint64_t per_tile = p.input_buffer.size_bytes * (p.ping_pong ? 2 : 1) + p.output_buffer.size_bytes +
                                   static_cast<std::uint64_t>(cfg.crossbar.rows) * cfg.crossbar.cols;
    return p.dram.size_bytes + p.global_buffer.size_bytes + static_cast<std::uint64_t>(p.tiles) * per_tile +
           cfg.pe_array.act_buffer_bytes + cfg.pe_array.weight_buffer_bytes + cfg.pe_array.out_buffer_bytes;
}

}  // namespace cimvp
