// Analytic performance and energy model of the SWIS PE array (docs/swis.md
// "Performance model"): an output-stationary systolic array of rows x cols PEs
// (rows = output pixels, cols = filters; 8 x 8 by default), each PE consuming
// one group of M weights against M activations per step, M the layer shape's
// group_size: the PE's lanes. The SystemC array (hw/swis_pe_array) has PEs of
// kGroupSize lanes and must report the same compute cycles for the same layer
// and schedule: compute_cycles is the contract. Other M (the paper's group-size
// study) are this model's alone, with the cost model's PEs of M lanes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/pe_mode.h"
#include "sw/contract/swis.h"

namespace cimvp::swis {

enum class Mode : std::uint8_t {
    kSS,   // SWIS, single-shift PE: N cycles per group
    kDS,   // SWIS, double-shift PE: ceil(N / 2)
    kCSS,  // SWIS-C, single-shift
    kCDS,  // SWIS-C, double-shift
    kAct,  // bit-serial baseline, activations truncated to N bits, one cycle per bit
    kWgt,  // bit-serial on weights truncated to N bits (truncate_weights), one cycle per bit
    kBitFusion,  // Bit Fusion fusion units (Sharma et al., ISCA 2018), N-bit weights x 8-bit activations
    kFxp,  // 8-bit fixed point, one cycle per group
};
constexpr int kModeCount = 8;
constexpr std::array<Mode, kModeCount> kModes = {Mode::kSS,  Mode::kDS,  Mode::kCSS,       Mode::kCDS,
                                                 Mode::kAct, Mode::kWgt, Mode::kBitFusion, Mode::kFxp};
const char* mode_name(Mode m);  // "SS", "DS", "C-SS", "C-DS", "Act", "Wgt", "BitFusion", "FXP"
inline int mode_index(Mode m) { return static_cast<int>(m); }
// A mode is a form of the PE (sw/contract/pe_mode.h) and, for the SWIS forms, the
// variant of the decomposition: its cycles and energy are those of its PE form.
// BitFusion is a baseline of the model only: the SystemC array has no such form.
bool has_pe_form(Mode m);      // every mode but BitFusion
PeMode pe_mode(Mode m);        // SS, C-SS single shift; DS, C-DS double shift; Act, Wgt, FXP theirs; throws for BitFusion
bool is_swis(Mode m);          // SS, DS, C-SS, C-DS
bool is_double_shift(Mode m);  // DS, C-DS
Variant mode_variant(Mode m);  // SWIS-C for C-SS, C-DS

// Bit Fusion (Sharma et al., "Bit Fusion: Bit-Level Dynamically Composable Architecture for
// Accelerating Deep Neural Networks", ISCA 2018): a fusion unit of 16 BitBricks, each a 2-bit x
// 2-bit multiplier; an a-bit x w-bit product takes (a / 2)(w / 2) bricks, the bits rounded up to
// 2, 4 or 8 (the architecture's power-of-2 precisions), so a unit does 16 / bricks products a
// cycle (8 x 8: 1, 4 x 8: 2, 4 x 4: 4, 2 x 2: 16), all summed into its one output.
constexpr int kBitBricks = 16;
int bitfusion_bits(int bits);                // 1..8 rounded up to 2, 4 or 8
int bitfusion_bricks(int w_bits, int a_bits);  // BitBricks of one product
// Cycles of one fusion unit on `groups` groups of kGroupSize products:
// ceil(groups * kGroupSize * bricks / 16). Throws SwisError for bits outside 1..8.
// A fusion unit has no lanes: it takes a layer's products in groups of kGroupSize
// whatever the SWIS group size (bitfusion_shape).
std::uint64_t bitfusion_cycles(std::uint64_t groups, int w_bits, int a_bits);

constexpr int kArrayRows = 8;  // output pixels in flight
constexpr int kArrayCols = 8;  // filters in flight: an array group of the schedule

// Cycles one PE spends on one group at N shifts / bits: pe_cycles_per_group of the
// mode's PE form (SS, C-SS, Act, Wgt N; DS, C-DS ceil(N / 2); FXP 1); BitFusion
// bitfusion_cycles(1, N, 8): 1, 2, 4 at N <= 2, <= 4, <= 8 bits of weights.
int cycles_per_group(Mode mode, int n);

// Compute cycles of one matrix layer on the array:
//
//   sum over pixel tiles p (ceil(out_pixels / rows) of them)
//     sum over filter tiles t (ceil(filters / cols), in schedule order)
//       pe_tile_cycles = groups_per_filter * cycles_per_group(mode, tile_n[t]) + (rows + cols - 2)
//
// = ceil(out_pixels / rows) * sum_t [...]. rows + cols - 2 is the systolic
// fill/drain skew, paid by every tile, ragged or not. tile_n[t] is the N of
// filter tile t (Schedule::group_n with array_cols = cols); for Act and Wgt
// the bits of the serial operand; for BitFusion the weight bits; ignored for FXP (may be empty). Throws
// SwisError when tile_n does not have one entry per filter tile.
std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, Mode mode,
                             int rows = kArrayRows, int cols = kArrayCols);
// The same for a PE form, as the SystemC array runs a job (SWIS or SWIS-C alike).
// shape.group_size is the PE's lanes, 1..kMaxGroupSize; BitFusion takes kGroupSize only.
std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, PeMode mode,
                             int rows = kArrayRows, int cols = kArrayCols);

// The per-cycle PE energy and buffer energy defaults: sw/contract/pe_mode.h.
// One busy fusion-unit cycle of BitFusion, in pJ (28 nm; docs/swis.md "PE energy per cycle"):
// the paper's Table 4, ResNet-18 ImageNet, BitFusion 4 x 8 (218.9 frames/J) against Wgt at 4
// bits (267.7 frames/J; the same 8-bit activations, weights of 16 against 20 bits per group):
// 1/218.9 - 1/267.7 J = 0.833 mJ more, plus Wgt 4's 4 x 4.53e8 bit-serial cycles x 0.67 pJ =
// 1.214 mJ, over BitFusion's 2 x 4.53e8 fusion-unit cycles. Not a config key: the platform
// has no such PE.
constexpr double kBitFusionPj = 2.26;
// Bytes per output activation written to the output buffer and DRAM (requantized int8).
constexpr int kOutputBytes = 1;

struct PerfCosts {
    double clock_ns = 1.0;                    // digital.clock_ns
    int lanes = kGroupSize;                   // the PEs' lanes pe_pj is for (layer_perf checks the shape's group_size)
    // per busy PE cycle, by mode: pe_array.pj_per_cycle_* (PEs of kGroupSize lanes; other widths:
    // sw/app/swis_job.h perf_costs_at); BitFusion kBitFusionPj, its unit has no lanes
    std::array<double, kModeCount> pe_pj{};
    double sram_pj_per_byte = kBufferPjPerByte;  // activation/weight/output buffers (pe_array.buffer_pj_per_byte)
    double dram_pj_per_byte = 160.0;          // platform.dram.read_pj_per_byte
    PerfCosts();                              // the PE array's defaults (PeArrayConfig{})
    static PerfCosts from_config(const ArchConfig& cfg);
    // pe_pj and sram_pj_per_byte from the PE array's config, lanes kGroupSize.
    void set_pe_array(const PeArrayConfig& p);
};

// A matrix layer as the array runs it.
struct PerfLayer {
    std::string name;
    LayerShape shape;             // one convolution group: its filters, input channels, kernel
    int conv_groups = 1;          // independent matrix layers (depthwise: one per channel, 1 filter each)
    int out_pixels = 1;           // output positions (fc: 1)
    std::int64_t input_elems = 0;   // input activations per frame (C x H x W)
    std::int64_t output_elems = 0;  // output activations per frame
    bool conv = true;             // counts toward the convolution-only totals (the paper's scope)
    std::int64_t macs() const {
        return static_cast<std::int64_t>(conv_groups) * shape.filters * shape.K() * out_pixels;
    }
    int filter_tiles(int cols = kArrayCols) const { return (shape.filters + cols - 1) / cols; }
    int tiles(int cols = kArrayCols) const { return conv_groups * filter_tiles(cols); }  // entries of tile_n
};

struct LayerPerf {
    std::uint64_t cycles = 0;      // compute cycles
    std::uint64_t pe_cycles = 0;   // busy PE cycles (PEs x cycles they hold a group)
    double act_buffer_bytes = 0;   // activation buffer reads
    double weight_buffer_bytes = 0;
    double output_buffer_bytes = 0;
    double weight_storage_bytes = 0;  // the layer's weights in this mode's format (read once from DRAM)
    double dram_bytes = 0;            // weights + input and output activations, once per frame
    double pe_pj = 0, sram_pj = 0, dram_pj = 0;
    double energy_pj() const { return pe_pj + sram_pj + dram_pj; }
    // One frame is the layer (or network) these figures add up: frames per second at the
    // array's clock, frames per joule; 0 for no cycles or no energy.
    double frames_per_second(double clock_ns) const {
        return cycles ? 1e9 / (static_cast<double>(cycles) * clock_ns) : 0;
    }
    double frames_per_joule() const { return energy_pj() > 0 ? 1e12 / energy_pj() : 0; }
    LayerPerf& operator+=(const LayerPerf& o);
};

// tile_n: one N per filter tile of every convolution group (group g's tiles at
// g * filter_tiles .. ), empty for FXP. Activation bits: N for Act, else 8.
// Weight bits per group of M = shape.group_size (mode_group_bits): at M = 4 SS/DS
// 4 + 7N, C-SS/C-DS 7 + 4N, Wgt 4 (N + 1), BitFusion 4 bitfusion_bits(N) (two's
// complement, its own groups of 4), Act/FXP 32. Throws SwisError when the shape's
// group_size is not costs.lanes (BitFusion aside).
LayerPerf layer_perf(const PerfLayer& layer, const std::vector<int>& tile_n, Mode mode, const PerfCosts& costs,
                     int rows = kArrayRows, int cols = kArrayCols);

// Weight bits of one group of `lanes` weights in a mode at N (BitFusion: of kGroupSize, its groups).
int mode_group_bits(Mode mode, int n, int lanes = kGroupSize);
// The shape a mode's PEs take the layer in: BitFusion's groups of kGroupSize products, every
// other mode the shape as it is.
LayerShape pe_shape(const LayerShape& shape, Mode mode);

}  // namespace cimvp::swis
