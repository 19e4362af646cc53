#include "sw/contract/swis_perf.h"

#include <algorithm>

namespace cimvp::swis {

namespace {

constexpr int kActivationBits = 8;
constexpr int kInt8GroupBits = 8 * kGroupSize;

// `name`: the mode in messages.
void check_tiles(const std::vector<int>& tile_n, std::size_t want, PeMode mode, const char* name) {
    if (mode == PeMode::kFixedPoint && tile_n.empty()) return;
    if (tile_n.size() != want)
        throw SwisError(std::string("swis perf: ") + name + ": tile shift counts: expected one per filter tile (" +
                        std::to_string(want) + "), got " + std::to_string(tile_n.size()));
    if (mode == PeMode::kFixedPoint) return;
    for (int n : tile_n)
        if (n < 1 || n > kShiftPositions)
            throw SwisError(std::string("swis perf: ") + name + ": tile N: expected 1..8, got " + std::to_string(n));
}

void check_tiles(const std::vector<int>& tile_n, std::size_t want, Mode mode) {
    check_tiles(tile_n, want, pe_mode(mode), mode_name(mode));
}

// The formula of compute_cycles on checked arguments.
std::uint64_t checked_compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n,
                                     PeMode mode, const char* name, int rows, int cols) {
    if (shape.filters < 1 || shape.channels < 1 || shape.kernel_h < 1 || shape.kernel_w < 1 || out_pixels < 1 ||
        rows < 1 || cols < 1)
        throw SwisError("swis perf: layer: expected positive filters, channels, kernel, output pixels and array size");
    const int tiles = (shape.filters + cols - 1) / cols;
    check_tiles(tile_n, static_cast<std::size_t>(tiles), mode, name);
    const auto gpf = static_cast<std::uint64_t>(shape.groups_per_filter());
    std::uint64_t per_pixel_tile = 0;
    for (int t = 0; t < tiles; ++t)
        per_pixel_tile += pe_tile_cycles(mode, tile_n.empty() ? 0 : tile_n[t], gpf, rows, cols);
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
        case Mode::kFxp: return "FXP";
    }
    return "?";
}

PeMode pe_mode(Mode m) {
    switch (m) {
        case Mode::kSS:
        case Mode::kCSS: return PeMode::kSingleShift;
        case Mode::kDS:
        case Mode::kCDS: return PeMode::kDoubleShift;
        case Mode::kAct: return PeMode::kActSerial;
        case Mode::kWgt: return PeMode::kWgtSerial;
        case Mode::kFxp: return PeMode::kFixedPoint;
    }
    return PeMode::kSingleShift;
}

bool is_swis(Mode m) { return m == Mode::kSS || m == Mode::kDS || m == Mode::kCSS || m == Mode::kCDS; }
bool is_double_shift(Mode m) { return pe_mode(m) == PeMode::kDoubleShift; }
Variant mode_variant(Mode m) { return m == Mode::kCSS || m == Mode::kCDS ? Variant::kSwisC : Variant::kSwis; }

int cycles_per_group(Mode mode, int n) { return pe_cycles_per_group(pe_mode(mode), n); }

int mode_group_bits(Mode mode, int n) {
    switch (mode) {
        case Mode::kSS:
        case Mode::kDS: return group_storage_bits(n, Variant::kSwis);
        case Mode::kCSS:
        case Mode::kCDS: return group_storage_bits(n, Variant::kSwisC);
        case Mode::kWgt: return kGroupSize * (n + 1);  // sign + N magnitude bits
        case Mode::kAct:
        case Mode::kFxp: return kInt8GroupBits;
    }
    return kInt8GroupBits;
}

std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, Mode mode,
                             int rows, int cols) {
    return checked_compute_cycles(shape, out_pixels, tile_n, pe_mode(mode), mode_name(mode), rows, cols);
}

std::uint64_t compute_cycles(const LayerShape& shape, int out_pixels, const std::vector<int>& tile_n, PeMode mode,
                             int rows, int cols) {
    return checked_compute_cycles(shape, out_pixels, tile_n, mode, pe_mode_name(mode), rows, cols);
}

PerfCosts::PerfCosts() { set_pe_array(PeArrayConfig{}); }

void PerfCosts::set_pe_array(const PeArrayConfig& p) {
    for (Mode m : kModes) pe_pj[mode_index(m)] = p.pj_per_cycle(pe_mode(m));
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
    const LayerShape& s = layer.shape;
    if (layer.conv_groups < 1) throw SwisError("swis perf: " + layer.name + ": convolution groups: expected >= 1");
    const int ftiles = layer.filter_tiles(cols);
    check_tiles(tile_n, static_cast<std::size_t>(layer.conv_groups) * ftiles, mode);
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
            const double wbits = mode_group_bits(mode, n);
            for (int pt = 0; pt < pixel_tiles; ++pt) {
                const int active_rows = std::min(rows, layer.out_pixels - pt * rows);
                p.pe_cycles += static_cast<std::uint64_t>(active_rows) * active_cols *
                               static_cast<std::uint64_t>(gpf) * cycles_per_group(mode, n);
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
