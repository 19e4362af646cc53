#include "sw/workloads/trace_network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sw/contract/layer_mapping.h"
#include "sw/contract/numerics.h"
#include "sw/contract/pe_mode.h"
#include "sw/contract/swis.h"
#include "sw/formats/config_loader.h"

namespace cimvp {

namespace {

// Weight records on the PE array: a group of swis::kGroupSize weights per record of
// kSwisRecordBytes (sw/contract/pe_mode.h).
constexpr std::uint64_t kPeGroupSize = swis::kGroupSize;

[[noreturn]] void fail(const NetworkTrace& t, const TraceLayer& L, const std::string& field, const std::string& what) {
    throw TraceError(t.source + ":" + std::to_string(L.line) + ": " + field + ": " + what);
}

// Mean of x^2 of one drawn activation (docs/trace-format.md, data record).
double act_second_moment(const TraceDistribution& act, int a_bits) {
    const double top = static_cast<double>((1 << a_bits) - 1);
    if (act.family == "uniform") return top * (2 * top + 1) / 6.0;  // 0..top equally likely
    return (1 - act.param) * (top + 1) * (2 * top + 1) / 6.0;       // 1..top with probability 1 - P
}

}  // namespace

TraceMapping parse_trace_mapping(const std::string& s) {
    if (s == "trace") return TraceMapping::kTrace;
    if (s == "crossbar") return TraceMapping::kCrossbar;
    if (s == "pe") return TraceMapping::kPe;
    throw std::invalid_argument("--map: expected trace, crossbar or pe, got '" + s + "'");
}

const char* trace_mapping_name(TraceMapping m) {
    return m == TraceMapping::kTrace ? "trace" : (m == TraceMapping::kCrossbar ? "crossbar" : "pe");
}

int depthwise_block_channels(int kernel, const ArchConfig& cfg) {
    return std::max(1, cfg.crossbar.rows / (kernel * kernel));
}

int trace_requant_shift(const std::vector<std::int8_t>& weights, int M, const TraceDistribution& act, int a_bits,
                        int a_out_bits) {
    double sum_w2 = 0;
    for (std::int8_t w : weights) sum_w2 += static_cast<double>(w) * w;
    const double sigma = std::sqrt(act_second_moment(act, a_bits) * sum_w2 / std::max(1, M));
    const double top = static_cast<double>((1 << a_out_bits) - 1);
    int s = 0;
    while (s < 62 && kTraceRequantSigmas * sigma / std::ldexp(1.0, s) > top) ++s;
    return s;
}

std::vector<std::int8_t> narrow_trace_weights(const std::vector<std::int8_t>& w, int w_bits, bool binary) {
    std::vector<std::int8_t> out(w.size());
    const int drop = 8 - w_bits;
    const int lo = -(1 << (w_bits - 1)), hi = (1 << (w_bits - 1)) - 1;
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (binary) {
            out[i] = static_cast<std::int8_t>(w[i] >= 0 ? 1 : -1);
        } else if (drop <= 0) {
            out[i] = w[i];
        } else {
            const double q = std::round(static_cast<double>(w[i]) / static_cast<double>(1 << drop));
            out[i] = static_cast<std::int8_t>(std::clamp(static_cast<int>(q), lo, hi));
        }
    }
    return out;
}

TraceWorkload build_trace_workload(const NetworkTrace& trace, const ArchConfig& cfg, TraceMapping mapping,
                                   const std::vector<bool>& shifts_of) {
    TraceWorkload w;
    w.trace = trace;
    w.frac_bits = cfg.adc.frac_bits;
    w.layer_stages.resize(trace.layers.size());
    w.layer_shift.assign(trace.layers.size(), 0);
    if (!shifts_of.empty() && shifts_of.size() != trace.layers.size())
        throw std::invalid_argument("build_trace_workload: shifts_of has " + std::to_string(shifts_of.size()) +
                                    " layers, the trace " + std::to_string(trace.layers.size()));
    std::size_t last_weights = trace.layers.size();
    for (std::size_t l = 0; l < trace.layers.size(); ++l)
        if (trace.layers[l].has_weights()) last_weights = l;
    for (std::size_t l = 0; l < trace.layers.size(); ++l) {
        const TraceLayer& L = trace.layers[l];
        if (!L.has_weights()) continue;
        const bool on_pe = mapping == TraceMapping::kPe || (mapping == TraceMapping::kTrace && L.map == TraceMap::kPe);
        const bool binary = L.scheme == TraceScheme::kBwma;
        if (on_pe && (L.w_bits != 8 || binary))
            fail(trace, L, "map",
                 "expected crossbar for a layer with w_bits=" + std::to_string(L.w_bits) +
                     " (the PE array runs 8-bit weights), got pe");
        const bool depthwise = L.type == TraceLayerType::kDwConv;
        // Binary cells cannot hold 0: a binary depthwise layer has no block-diagonal form.
        if (depthwise && binary) fail(trace, L, "scheme", "expected int8 or columnwise on a dwconv layer, got bwma");
        // Depthwise: blocks of g channels, each a g -> g convolution whose weights are zero off the diagonal.
        const int block = depthwise ? depthwise_block_channels(L.kernel, cfg) : L.in_c;
        if (on_pe) {
            // The PE array holds one tile of filters' weight records (and rows x K activations) at once.
            const std::uint64_t channels = static_cast<std::uint64_t>(L.type == TraceLayerType::kFc ? L.K() : block);
            const std::uint64_t window = L.type == TraceLayerType::kFc ? 1 : static_cast<std::uint64_t>(L.kernel) * L.kernel;
            const std::uint64_t groups = (channels + kPeGroupSize - 1) / kPeGroupSize * window;
            const std::uint64_t all_filters = static_cast<std::uint64_t>(depthwise ? block : L.out_c);
            const std::uint64_t filters = std::min<std::uint64_t>(cfg.pe_array.cols, all_filters);
            const std::uint64_t pixels = static_cast<std::uint64_t>(L.out_h()) * L.out_w();
            const PeChunkBytes least = pe_min_chunk_bytes(cfg.pe_array.rows, cfg.pe_array.cols, channels * window,
                                                          groups, kSwisRecordBytes, pixels, all_filters);
            const std::uint64_t need_w = least.weights, need_a = least.act;
            if (need_w > cfg.pe_array.weight_buffer_bytes)
                fail(trace, L, "map",
                     "expected a layer whose weight records for " + std::to_string(filters) +
                         " filters fit pe_array.weight_buffer_bytes = " + std::to_string(cfg.pe_array.weight_buffer_bytes) +
                         " (it needs " + std::to_string(need_w) + "; configs/imagenet_pe.json has 512 KiB), got pe");
            if (need_a > cfg.pe_array.act_buffer_bytes)
                fail(trace, L, "map",
                     "expected a layer whose activations for " + std::to_string(cfg.pe_array.rows) +
                         " pixels fit pe_array.act_buffer_bytes = " + std::to_string(cfg.pe_array.act_buffer_bytes) +
                         " (it needs " + std::to_string(need_a) + "), got pe");
        }
        // The layer's requantization shift, from all its weights, once (every block of a depthwise layer shares it).
        w.layer_shift[l] = !shifts_of.empty() && !shifts_of[l]
                               ? TraceWorkload::kNoShift
                               : trace_requant_shift(narrow_trace_weights(trace_layer_weights(trace, l), L.w_bits, binary),
                                                     L.out_c, trace.data.act, L.a_bits, L.a_bits);
        for (int c0 = 0; c0 < L.in_c; c0 += block) {
            TraceStage s;
            s.layer = l;
            s.first_channel = c0;
            s.channels = std::min(block, L.in_c - c0);
            s.on_pe = on_pe;
            s.logits = l == last_weights && L.type == TraceLayerType::kFc;
            w.layer_stages[l].push_back(w.stages.size());
            w.stages.push_back(s);
        }
    }
    return w;
}

NetworkModel TraceWorkload::stage_shape(std::size_t stage) const {
    const TraceStage& s = stages.at(stage);
    const TraceLayer& L = trace.layers[s.layer];
    const bool depthwise = L.type == TraceLayerType::kDwConv;
    NetworkModel m;
    m.path = trace.source;
    m.name = L.name + (depthwise ? ".c" + std::to_string(s.first_channel) : "");
    m.scheme = trace_name(L.scheme);
    m.in_c = s.channels;
    m.in_h = L.in_h;
    m.in_w = L.in_w;
    m.in_bits = L.a_bits;
    m.frac_bits = frac_bits;
    NetworkLayer n;
    n.kind = L.type == TraceLayerType::kFc ? LayerKind::kFc : LayerKind::kConv;
    n.in_c = s.channels;
    n.in_h = L.in_h;
    n.in_w = L.in_w;
    n.out_c = depthwise ? s.channels : L.out_c;
    n.kernel = L.type == TraceLayerType::kFc ? 1 : L.kernel;
    n.stride = L.type == TraceLayerType::kFc ? 1 : L.stride;
    n.padding = L.type == TraceLayerType::kFc ? 0 : L.padding;
    n.a_in_bits = L.a_bits;
    n.w_bits = L.w_bits;
    n.binary = L.scheme == TraceScheme::kBwma;
    n.relu = !s.logits;
    n.a_out_bits = s.logits ? 0 : L.a_bits;
    m.num_classes = n.out_c;
    m.layers.push_back(std::move(n));
    return m;
}

NetworkModel TraceWorkload::stage_model(std::size_t stage) const {
    const TraceStage& s = stages.at(stage);
    const TraceLayer& L = trace.layers[s.layer];
    const bool depthwise = L.type == TraceLayerType::kDwConv;
    NetworkModel m = stage_shape(stage);
    NetworkLayer& n = m.layers[0];
    // A depthwise block's own filters only: drawing the whole layer for each block made the set-up of a
    // layer grow with the square of its channels.
    const int first_filter = depthwise ? s.first_channel : 0;
    const std::vector<std::int8_t> drawn =
        narrow_trace_weights(trace_layer_weights(trace, s.layer, first_filter, n.out_c), L.w_bits, n.binary);
    const int K = static_cast<int>(L.K());
    if (!s.logits && layer_shift.at(s.layer) == kNoShift)
        throw std::logic_error("TraceWorkload::stage_model: layer " + L.name + " was planned without its shift");
    n.shift = s.logits ? 0 : layer_shift.at(s.layer);
    if (depthwise) {
        const int kk = L.kernel * L.kernel, Kb = s.channels * kk;
        n.weights.assign(static_cast<std::size_t>(s.channels) * Kb, 0);
        for (int o = 0; o < s.channels; ++o)
            for (int k = 0; k < kk; ++k)
                n.weights[static_cast<std::size_t>(o) * Kb + o * kk + k] = drawn[static_cast<std::size_t>(o) * K + k];
    } else {
        n.weights = drawn;
    }
    const std::size_t M = static_cast<std::size_t>(n.out_c);
    n.bias.assign(M, 0);
    n.mult.assign(M, 1);
    n.mult_x.assign(M, 0);
    return m;
}

int TraceWorkload::stage_tiles(std::size_t stage, const ArchConfig& cfg) const {
    if (stages.at(stage).on_pe) return 0;
    const NetworkModel shape = stage_shape(stage);
    // As many tiles as it takes: the count must not depend on the tiles the config has.
    ArchConfig unbounded = cfg;
    unbounded.platform.tiles = std::numeric_limits<int>::max();
    return LayerMapping::of_shape(shape.layers[0].matrix(shape.name), unbounded).resident_tiles();
}

std::int64_t TraceWorkload::stage_macs(std::size_t stage) const {
    const TraceStage& s = stages.at(stage);
    const TraceLayer& L = trace.layers[s.layer];
    const std::int64_t pixels = static_cast<std::int64_t>(L.out_h()) * L.out_w();
    if (L.type == TraceLayerType::kDwConv) return static_cast<std::int64_t>(s.channels) * L.kernel * L.kernel * pixels;
    return static_cast<std::int64_t>(L.K()) * L.out_c * pixels;
}

std::int64_t TraceWorkload::layer_macs(std::size_t l) const {
    std::int64_t m = 0;
    for (std::size_t s : layer_stages.at(l)) m += stage_macs(s);
    return m;
}

std::vector<std::uint8_t> TraceWorkload::stage_input(std::size_t stage, std::uint64_t image) const {
    const TraceStage& s = stages.at(stage);
    const TraceLayer& L = trace.layers[s.layer];
    const std::uint64_t plane = static_cast<std::uint64_t>(L.in_h) * L.in_w;
    const std::uint64_t per_image = plane * static_cast<std::uint64_t>(L.in_c);
    return trace_layer_activations(trace, s.layer, static_cast<std::size_t>(plane * s.channels),
                                   image * per_image + plane * static_cast<std::uint64_t>(s.first_channel));
}

ResidentTiles plan_resident_tiles(const TraceWorkload& work, const ArchConfig& cfg) {
    ResidentTiles r;
    r.stage_tiles.resize(work.stages.size());
    r.first_tile.resize(work.stages.size());
    r.layer_tiles.assign(work.trace.layers.size(), 0);
    std::int64_t next = 0;
    for (std::size_t s = 0; s < work.stages.size(); ++s) {
        const TraceStage& st = work.stages[s];
        int tiles = 0;
        try {
            tiles = work.stage_tiles(s, cfg);
        } catch (const MappingError& e) {
            const TraceLayer& L = work.trace.layers[st.layer];
            throw TraceError(work.trace.source + ":" + std::to_string(L.line) + ": map: expected a layer that the " +
                             "crossbar tiles can run: " + e.what());
        }
        r.stage_tiles[s] = tiles;
        r.first_tile[s] = static_cast<int>(std::min<std::int64_t>(next, std::numeric_limits<int>::max()));
        r.layer_tiles[st.layer] += tiles;
        next += tiles;
    }
    r.total = next;
    return r;
}

void check_resident_tiles(const ResidentTiles& tiles, const ArchConfig& cfg, const std::string& trace_path) {
    if (tiles.total <= cfg.platform.tiles) return;
    throw ConfigError(cfg.source + ": platform.tiles: expected at least " + std::to_string(tiles.total) +
                      " tiles (every crossbar layer of " + trace_path + " on its own tiles, weights resident: "
                      "--resident; `cimvp size --trace " + trace_path + "` sizes the chip), got " +
                      std::to_string(cfg.platform.tiles));
}

bool host_layer_on_ppu(const TraceLayer& L) {
    if (L.type == TraceLayerType::kAdd) return true;
    return L.type == TraceLayerType::kPool && L.kernel <= kTracePpuMaxWindow && L.stride <= kTracePpuMaxWindow;
}

std::vector<std::uint8_t> host_layer_input(const NetworkTrace& trace, std::size_t layer, std::uint64_t image) {
    const TraceLayer& L = trace.layers.at(layer);
    const std::uint64_t size = static_cast<std::uint64_t>(L.in_c) * L.in_h * L.in_w;
    const std::uint64_t n = L.type == TraceLayerType::kAdd ? 2 * size : size;
    return trace_layer_activations(trace, layer, static_cast<std::size_t>(n), image * n);
}

HostLayerResult run_host_layer(const NetworkTrace& trace, std::size_t layer, std::uint64_t image) {
    const TraceLayer& L = trace.layers.at(layer);
    const std::uint64_t size = static_cast<std::uint64_t>(L.in_c) * L.in_h * L.in_w;
    HostLayerResult r;
    if (L.type == TraceLayerType::kAdd) {
        // Both operands drawn: activations [0, size) and [size, 2 size) of the image's share.
        const auto x = host_layer_input(trace, layer, image);
        r.output.resize(static_cast<std::size_t>(size));
        for (std::uint64_t i = 0; i < size; ++i)
            r.output[i] = static_cast<std::uint8_t>(std::min(255, x[i] + x[size + i]));
        r.ops = size;
        return r;
    }
    if (L.type != TraceLayerType::kPool) throw TraceError(trace.source + ": layer " + L.name + " is not a host layer");
    const auto x = host_layer_input(trace, layer, image);
    const int oh = L.out_h(), ow = L.out_w();
    r.output.resize(static_cast<std::size_t>(L.in_c) * oh * ow);
    for (int c = 0; c < L.in_c; ++c)
        for (int y = 0; y < oh; ++y)
            for (int xo = 0; xo < ow; ++xo) {
                int best = 0;
                std::int64_t sum = 0;
                for (int ky = 0; ky < L.kernel; ++ky)
                    for (int kx = 0; kx < L.kernel; ++kx) {
                        const int iy = y * L.stride - L.padding + ky, ix = xo * L.stride - L.padding + kx;
                        if (iy < 0 || ix < 0 || iy >= L.in_h || ix >= L.in_w) continue;  // padding: ignored by max, 0 for avg
                        const int v = x[(static_cast<std::size_t>(c) * L.in_h + iy) * L.in_w + ix];
                        best = std::max(best, v);
                        sum += v;
                        ++r.ops;
                    }
                const int area = L.kernel * L.kernel;
                const std::int64_t avg = (2 * sum + area) / (2 * area);  // round half up
                r.output[(static_cast<std::size_t>(c) * oh + y) * ow + xo] =
                    static_cast<std::uint8_t>(L.pool == TracePool::kMax ? best : avg);
            }
    return r;
}

}  // namespace cimvp
