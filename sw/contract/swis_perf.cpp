#include "sw/contract/swis_perf.h"

#include <algorithm>
#include <functional>

namespace cimvp::swis {

namespace {

constexpr int kActivationBits = 8;

// How many cycles one group takes at N in a mode or a PE form; `fixed`: N does not
// matter (FXP: tile_n may be empty); `name`: the mode in messages; `lanes`: the one
// group size the PE takes (0: any, its lanes are the group's).
struct GroupRule {
    const char* name;
    bool fixed;
    std::function<int(int)> cycles;
    int lanes = 0;
};

GroupRule group_rule(PeMode mode) {
    return {pe_mode_name(mode), mode == PeMode::kFixedPoint, [mode](int n) { return pe_cycles_per_group(mode, n); }};
}

GroupRule group_rule(Mode mode) {
    if (mode == Mode::kBitFusion)
        return {mode_name(mode), false,
                [](int n) { return static_cast<int>(bitfusion_cycles(1, n, kActivationBits)); }, kGroupSize};
    GroupRule r = group_rule(pe_mode(mode));
    r.name = mode_name(mode);
    return r;
}

void check_tiles(const std::vector<int>& tile_n, std::size_t want, const GroupRule& rule) {
    if (rule.fixed && tile_n.empty()) return;
    if (tile_n.size() != want)
        throw SwisError(std::string("swis perf: ") + rule.name + ": tile shift counts: expected one per filter tile (" +
                        std::to_string(want) + "), got " + std::to_string(tile_n.size()));
    if (rule.fixed) return;
    for (int n : tile_n)
        if (n < 1 || n > kShiftPositions)
            throw SwisError(std::string("swis perf: ") + rule.name + ": tile N: expected 1..8, got " + std::to_string(n));
}

// The formula of compute_cycles on checked arguments.
std::uint64_t checked_compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n,
                                     const GroupRule& rule, int rows, int cols) {
    if (shape.filters < 1 || shape.channels < 1 || shape.kernel_h < 1 || shape.kernel_w < 1 || out_pixels < 1 ||
        rows < 1 || cols < 1)
        throw SwisError("swis perf: layer: expected positive filters, channels, kernel, output pixels and array size");
    if (shape.group_size < 1 || shape.group_size > kMaxGroupSize)
        throw SwisError("swis perf: layer: group size: expected PEs of 1.." + std::to_string(kMaxGroupSize) +
                        " lanes, got groups of " + std::to_string(shape.group_size));
    if (rule.lanes && shape.group_size != rule.lanes)
        throw SwisError(std::string("swis perf: ") + rule.name + ": group size: its unit takes groups of " +
                        std::to_string(rule.lanes) + " products, got " + std::to_string(shape.group_size) +
                        " (pe_shape)");
    const int tiles = (shape.filters + cols - 1) / cols;
    check_tiles(tile_n, static_cast<std::size_t>(tiles), rule);
    const auto gpf = static_cast<std::uint64_t>(shape.groups_per_filter());
    std::uint64_t per_pixel_tile = 0;
    for (int t = 0; t < tiles; ++t)
        per_pixel_tile += tile_cycles(rule.cycles(tile_n.empty() ? 0 : tile_n[t]), gpf, rows, cols);
    const std::uint64_t pixel_tiles = static_cast<std::uint64_t>((out_pixels + rows - 1) / rows);
    return pixel_tiles * per_pixel_tile;
}

}  // namespace

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::kSS: return "SS";
        case Mode::kDS: return "DS";
        case Mode::kCSS: return "C-SS";
        case Mode::kCDS: return "C-DS";
        case Mode::kAct: return "Act";
        case Mode::kWgt: return "Wgt";
        case Mode::kBitFusion: return "BitFusion";
        case Mode::kFxp: return "FXP";
    }
    return "?";
}

bool has_pe_form(Mode m) { return m != Mode::kBitFusion; }

PeMode pe_mode(Mode m) {
    switch (m) {
        case Mode::kSS:
        case Mode::kCSS: return PeMode::kSingleShift;
        case Mode::kDS:
        case Mode::kCDS: return PeMode::kDoubleShift;
        case Mode::kAct: return PeMode::kActSerial;
        case Mode::kWgt: return PeMode::kWgtSerial;
        case Mode::kFxp: return PeMode::kFixedPoint;
        case Mode::kBitFusion: break;
    }
    throw SwisError(std::string("swis perf: ") + mode_name(m) + ": not a form of the PE array");
}

bool is_swis(Mode m) { return m == Mode::kSS || m == Mode::kDS || m == Mode::kCSS || m == Mode::kCDS; }
bool is_double_shift(Mode m) { return m == Mode::kDS || m == Mode::kCDS; }
Variant mode_variant(Mode m) { return m == Mode::kCSS || m == Mode::kCDS ? Variant::kSwisC : Variant::kSwis; }

int bitfusion_bits(int bits) {
    if (bits < 1 || bits > kShiftPositions)
        throw SwisError("swis perf: BitFusion: bits: expected 1..8, got " + std::to_string(bits));
    return bits <= 2 ? 2 : bits <= 4 ? 4 : 8;
}

int bitfusion_bricks(int w_bits, int a_bits) { return (bitfusion_bits(w_bits) / 2) * (bitfusion_bits(a_bits) / 2); }

std::uint64_t bitfusion_cycles(std::uint64_t groups, int w_bits, int a_bits) {
    const std::uint64_t brick_cycles = groups * kGroupSize * static_cast<std::uint64_t>(bitfusion_bricks(w_bits, a_bits));
    return (brick_cycles + kBitBricks - 1) / kBitBricks;
}

int cycles_per_group(Mode mode, int n) { return group_rule(mode).cycles(n); }

int mode_group_bits(Mode mode, int n, int lanes) {
    switch (mode) {
        case Mode::kSS:
        case Mode::kDS: return group_storage_bits(n, Variant::kSwis, lanes);
        case Mode::kCSS:
        case Mode::kCDS: return group_storage_bits(n, Variant::kSwisC, lanes);
        case Mode::kWgt: return lanes * (n + 1);  // sign + N magnitude bits
        case Mode::kBitFusion: return kGroupSize * bitfusion_bits(n);  // two's complement, its groups of 4
        case Mode::kAct:
        case Mode::kFxp: break;
    }
    return 8 * lanes;
}

LayerShape pe_shape(const LayerShape& shape, Mode mode) {
    LayerShape s = shape;
    if (mode == Mode::kBitFusion) s.group_size = kGroupSize;
    return s;
}

std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, Mode mode,
                             int rows, int cols) {
    return checked_compute_cycles(shape, out_pixels, tile_n, group_rule(mode), rows, cols);
}

std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, PeMode mode,
                             int rows, int cols) {
    return checked_compute_cycles(shape, out_pixels, tile_n, group_rule(mode), rows, cols);
}

PerfCosts::PerfCosts() { set_pe_array(PeArrayConfig{}); }

void PerfCosts::set_pe_array(const PeArrayConfig& p) {
    lanes = kGroupSize;
    for (Mode m : kModes)
        if (has_pe_form(m)) pe_pj[mode_index(m)] = p.pj_per_cycle(pe_mode(m));
    // BitFusion was derived against the bit-serial PE (kBitFusionPj): it follows that PE's
    // figure (a technology's node and supply scale both alike).
    pe_pj[mode_index(Mode::kBitFusion)] = kBitFusionPj * p.pj_per_cycle(PeMode::kSingleShift) / kPeSingleShiftPj;
    sram_pj_per_byte = p.buffer_pj_per_byte;
}

PerfCosts PerfCosts::from_config(const ArchConfig& cfg) {
    PerfCosts c;
    c.clock_ns = cfg.digital.clock_ns;
    c.set_pe_array(cfg.pe_array);
    c.dram_pj_per_byte = cfg.platform.dram.read_pj_per_byte;
    return c;
}

LayerPerf& LayerPerf::operator+=(const LayerPerf& o) {
    cycles += o.cycles;
    pe_cycles += o.pe_cycles;
    act_buffer_bytes += o.act_buffer_bytes;
    weight_buffer_bytes += o.weight_buffer_bytes;
    output_buffer_bytes += o.output_buffer_bytes;
    weight_storage_bytes += o.weight_storage_bytes;
    dram_bytes += o.dram_bytes;
    pe_pj += o.pe_pj;
    sram_pj += o.sram_pj;
    dram_pj += o.dram_pj;
    return *this;
}

LayerPerf layer_perf(const PerfLayer& layer, const std::vector<int>& tile_n, Mode mode, const PerfCosts& costs, int rows,
                     int cols) {
    const LayerShape s = pe_shape(layer.shape, mode);
    if (layer.conv_groups < 1) throw SwisError("swis perf: " + layer.name + ": convolution groups: expected >= 1");
    if (mode != Mode::kBitFusion && s.group_size != costs.lanes)
        throw SwisError("swis perf: " + layer.name + ": group size " + std::to_string(s.group_size) +
                        ": the costs are for PEs of " + std::to_string(costs.lanes) + " lanes");
    const int ftiles = layer.filter_tiles(cols);
    const GroupRule rule = group_rule(mode);
    check_tiles(tile_n, static_cast<std::size_t>(layer.conv_groups) * ftiles, rule);
    LayerPerf p;
    const int pixel_tiles = (layer.out_pixels + rows - 1) / rows;
    const double gpf = s.groups_per_filter();
    double act_bits_sum = 0;  // over tiles, for the DRAM input read (Act reads N-bit activations)
    for (int g = 0; g < layer.conv_groups; ++g) {
        const std::vector<int> tn = tile_n.empty() ? std::vector<int>()
                                                   : std::vector<int>(tile_n.begin() + static_cast<std::ptrdiff_t>(g) * ftiles,
                                                                      tile_n.begin() + static_cast<std::ptrdiff_t>(g + 1) * ftiles);
        p.cycles += compute_cycles(s, layer.out_pixels, tn, mode, rows, cols);
        for (int t = 0; t < ftiles; ++t) {
            const int n = tn.empty() ? kActivationBits : tn[t];
            const int active_cols = std::min(cols, s.filters - t * cols);
            const int abits = mode == Mode::kAct ? n : kActivationBits;
            act_bits_sum += abits;
            const double wbits = mode_group_bits(mode, n, s.group_size);
            for (int pt = 0; pt < pixel_tiles; ++pt) {
                const int active_rows = std::min(rows, layer.out_pixels - pt * rows);
                p.pe_cycles += static_cast<std::uint64_t>(active_rows) * active_cols *
                               static_cast<std::uint64_t>(gpf) * rule.cycles(n);
                p.act_buffer_bytes += static_cast<double>(active_rows) * s.K() * abits / 8.0;
                p.weight_buffer_bytes += active_cols * gpf * wbits / 8.0;
                p.output_buffer_bytes += static_cast<double>(active_rows) * active_cols * kOutputBytes;
            }
            p.weight_storage_bytes += active_cols * gpf * wbits / 8.0;
        }
    }
    const double mean_abits = act_bits_sum / (static_cast<double>(layer.conv_groups) * ftiles);
    p.dram_bytes = p.weight_storage_bytes + layer.input_elems * mean_abits / 8.0 +
                   static_cast<double>(layer.output_elems) * kOutputBytes;
    p.pe_pj = static_cast<double>(p.pe_cycles) * costs.pe_pj[mode_index(mode)];
    p.sram_pj = (p.act_buffer_bytes + p.weight_buffer_bytes + p.output_buffer_bytes) * costs.sram_pj_per_byte;
    p.dram_pj = p.dram_bytes * costs.dram_pj_per_byte;
    return p;
}

}  // namespace cimvp::swis
