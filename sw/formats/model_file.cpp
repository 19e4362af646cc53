#include "sw/formats/model_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "sw/formats/digest.h"
#include "sw/formats/input_file.h"
#include "sw/formats/swis_packing.h"

namespace cimvp {

namespace {

constexpr char kMagic[8] = {'C', 'I', 'M', 'V', 'P', 'M', 'D', 'L'};
constexpr char kEndMagic[8] = {'C', 'I', 'M', 'V', 'P', 'E', 'N', 'D'};
constexpr std::uint32_t kVersion1 = 1;
constexpr std::uint32_t kVersion2 = 2;  // adds the per-layer SWIS storage
constexpr std::uint32_t kVersion3 = 3;  // graph networks
constexpr std::uint32_t kMaxLayers = 64;
constexpr std::uint32_t kMaxNodes = 1024;  // version 3
constexpr std::uint32_t kMaxConcatInputs = 64;
constexpr std::uint32_t kMaxDim = 4096;
constexpr std::uint32_t kMaxChannels = 65535;
constexpr std::uint32_t kMaxKernel = 15;
constexpr std::uint32_t kMaxStride = 8;
constexpr std::uint32_t kMaxPool = 8;
constexpr std::uint32_t kMaxShift = 62;
constexpr std::size_t kSchemeBytes = 16;
constexpr std::size_t kNameBytes = 32;
// Post-processing runs in int64: every model must stay below this with margin.
constexpr double kAffineLimit = 4.0e18;  // < 2^62

// Little-endian reader that knows where it is, for messages.
class Reader {
public:
    Reader(const std::vector<std::uint8_t>& b, std::size_t end, std::string source)
        : b_(b), end_(end), source_(std::move(source)) {}

    void context(std::string what) { context_ = std::move(what); }
    std::size_t offset() const { return at_; }

    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw ModelError(source_ + ": " + (context_.empty() ? "" : context_ + ": ") + field + ": " + what);
    }
    void need(std::size_t n, const std::string& field) const {
        if (end_ - at_ < n)
            throw ModelError(source_ + ": truncated at byte " + std::to_string(at_) + " while reading " +
                             (context_.empty() ? "" : context_ + " ") + field + ": need " + std::to_string(n) +
                             " bytes, " + std::to_string(end_ - at_) + " left");
    }
    template <class T>
    T scalar(const std::string& field) {
        need(sizeof(T), field);
        T v;
        std::memcpy(&v, &b_[at_], sizeof(T));
        at_ += sizeof(T);
        return v;
    }
    std::uint32_t u32(const std::string& field, std::uint32_t lo, std::uint32_t hi) {
        const auto v = scalar<std::uint32_t>(field);
        if (v < lo || v > hi)
            fail(field, "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v));
        return v;
    }
    std::string text(std::size_t n, const std::string& field) {
        need(n, field);
        std::string s(reinterpret_cast<const char*>(&b_[at_]), n);
        at_ += n;
        return s.substr(0, s.find('\0'));
    }
    template <class T>
    std::vector<T> array(std::size_t count, const std::string& field) {
        need(count * sizeof(T), field);
        std::vector<T> v(count);
        if (count) std::memcpy(v.data(), &b_[at_], count * sizeof(T));
        at_ += count * sizeof(T);
        return v;
    }

private:
    const std::vector<std::uint8_t>& b_;
    std::size_t end_;
    std::size_t at_ = 0;
    std::string source_;
    std::string context_;
};

class Writer {
public:
    template <class T>
    void scalar(T v) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        b_.insert(b_.end(), p, p + sizeof(T));
    }
    void text(const std::string& s, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) b_.push_back(i < s.size() ? static_cast<std::uint8_t>(s[i]) : 0);
    }
    template <class T>
    void array(const std::vector<T>& v) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
        b_.insert(b_.end(), p, p + v.size() * sizeof(T));
    }
    std::vector<std::uint8_t>& bytes() { return b_; }

private:
    std::vector<std::uint8_t> b_;
};

int row_tiles_of(const NetworkLayer& l) { return (l.K() + l.rows_per_tile - 1) / l.rows_per_tile; }

// Format v2: the layer's SWIS storage after its v1 fields (docs/model-format.md).
void parse_swis_storage(Reader& r, NetworkLayer& L) {
    if (r.u32("swis", 0, 1) == 0) return;
    if (L.groups > 1)
        r.fail("swis", "expected 0: a grouped conv (groups " + std::to_string(L.groups) + ") has no SWIS storage");
    if (L.binary || L.w_bits != 8)
        r.fail("swis", "expected 0: SWIS groups store 8-bit weights, the layer has " +
                           (L.binary ? std::string("binary weights") : std::to_string(L.w_bits) + "-bit weights"));
    SwisLayerStorage s;
    s.variant = r.u32("swis_variant", 0, 1) == 1 ? swis::Variant::kSwisC : swis::Variant::kSwis;
    r.u32("group_size", swis::kGroupSize, swis::kGroupSize);
    s.schedule_cols = static_cast<int>(r.u32("schedule_cols", 1, kMaxChannels));
    const std::size_t at = r.offset();
    const auto n = r.array<std::uint8_t>(static_cast<std::size_t>(L.M()), "filter_n");
    for (std::size_t f = 0; f < n.size(); ++f) {
        if (n[f] < 1 || n[f] > swis::kShiftPositions)
            r.fail("filter_n[" + std::to_string(f) + "]", "expected 1..8 (at byte " + std::to_string(at + f) +
                                                              "), got " + std::to_string(n[f]));
        s.filter_n.push_back(n[f]);
    }
    // Filters that run together on the array share N: cut in N order, each group of
    // schedule_cols filters has one N (docs/swis.md "Filter scheduling").
    std::vector<int> sorted = s.filter_n;
    std::stable_sort(sorted.begin(), sorted.end());
    for (std::size_t g = 0; g < sorted.size(); g += static_cast<std::size_t>(s.schedule_cols)) {
        const std::size_t end = std::min(sorted.size(), g + static_cast<std::size_t>(s.schedule_cols));
        if (sorted[g] != sorted[end - 1])
            r.fail("filter_n", "expected every array group of schedule_cols = " + std::to_string(s.schedule_cols) +
                                   " filters (in N order) to share one N, group " +
                                   std::to_string(g / static_cast<std::size_t>(s.schedule_cols)) + " has N " +
                                   std::to_string(sorted[g]) + ".." + std::to_string(sorted[end - 1]));
    }
    const swis::LayerShape shape = L.swis_shape();
    std::int64_t bits = 0;
    for (int v : s.filter_n)
        bits += static_cast<std::int64_t>(shape.groups_per_filter()) * swis::group_storage_bits(v, s.variant);
    const std::uint64_t want = static_cast<std::uint64_t>((bits + 7) / 8);
    const std::uint32_t packed_bytes = r.scalar<std::uint32_t>("packed_bytes");
    if (packed_bytes != want)
        r.fail("packed_bytes", "expected " + std::to_string(want) + " (" + std::to_string(bits) +
                                   " bits of groups for these filter_n), got " + std::to_string(packed_bytes));
    const std::size_t packed_at = r.offset();
    s.packed = r.array<std::uint8_t>(packed_bytes, "packed");
    swis::DecomposedLayer groups;
    try {
        groups = swis::unpack_groups(s.packed, shape, s.variant, s.filter_n);
    } catch (const swis::SwisError& e) {
        r.fail("packed (byte " + std::to_string(packed_at) + ")", e.what());
    }
    const auto w = groups.weights();
    for (std::size_t j = 0; j < w.size(); ++j)
        if (w[j] != L.weights[j])
            r.fail("weights[" + std::to_string(j) + "]", "expected " + std::to_string(w[j]) +
                                                             " (the value of the stored SWIS groups), got " +
                                                             std::to_string(L.weights[j]));
    L.swis = std::move(s);
}

}  // namespace

const char* kind_name(LayerKind k) {
    switch (k) {
        case LayerKind::kConv: return "conv";
        case LayerKind::kFc: return "fc";
        case LayerKind::kAdd: return "add";
        case LayerKind::kConcat: return "concat";
        case LayerKind::kPool: return "pool";
    }
    return "?";
}

std::string NetworkModel::layer_name(std::size_t i) const {
    return (is_chain() ? "layer " : "node ") + std::to_string(i) + " (" + kind_name(layers.at(i).kind) + ")";
}

NetworkModel::Tensor NetworkModel::tensor(std::size_t index) const {
    if (index == 0) return {in_c, in_h, in_w, in_bits};
    const NetworkLayer& L = layers.at(index - 1);
    return {L.out_c, L.pooled_h(), L.pooled_w(), L.relu ? L.a_out_bits : 0};
}

bool NetworkModel::is_chain() const {
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const NetworkLayer& L = layers[i];
        if (!L.is_matrix() || L.groups != 1) return false;
        if (!L.inputs.empty() && (L.inputs.size() != 1 || L.inputs[0] != static_cast<int>(i))) return false;
    }
    return true;
}

std::vector<int> NetworkModel::inputs_of(std::size_t node) const {
    const NetworkLayer& L = layers.at(node);
    return L.inputs.empty() ? std::vector<int>{static_cast<int>(node)} : L.inputs;
}

std::vector<int> NetworkModel::last_consumers() const {
    std::vector<int> last(layers.size() + 1, -1);
    for (std::size_t i = 0; i < layers.size(); ++i)
        for (int j : inputs_of(i)) last.at(static_cast<std::size_t>(j)) = static_cast<int>(i);
    return last;
}

MatrixLayer NetworkLayer::block_matrix(const ConvBlock& b, const std::string& name) const {
    return cimvp::block_matrix(group_shape(), b, weights, a_in_bits, w_bits, rows_per_tile, name);
}

MatrixLayer NetworkLayer::matrix(const std::string& name) const {
    MatrixLayer m;
    m.name = name;
    m.K = K();
    m.M = M();
    m.a_bits = a_in_bits;
    m.w_bits = w_bits;
    m.binary = binary;
    m.rows_per_tile = rows_per_tile;
    m.col_mult = col_mult;
    if (weights.empty()) return m;
    m.weights.resize(static_cast<std::size_t>(m.K) * m.M);
    for (int o = 0; o < m.M; ++o)
        for (int k = 0; k < m.K; ++k)
            m.weights[static_cast<std::size_t>(k) * m.M + o] = weights[static_cast<std::size_t>(o) * m.K + k];
    return m;
}

swis::LayerShape NetworkLayer::swis_shape() const {
    swis::LayerShape s;
    s.filters = M();
    if (kind == LayerKind::kConv) {
        s.channels = in_c;
        s.kernel_h = s.kernel_w = kernel;
    } else {
        s.channels = K();
    }
    return s;
}

swis::DecomposedLayer NetworkLayer::swis_groups() const {
    if (!swis) throw ModelError("layer has no SWIS storage");
    return swis::unpack_groups(swis->packed, swis_shape(), swis->variant, swis->filter_n);
}

PostProcessParams NetworkLayer::post_process() const {
    PostProcessParams p;
    p.bias = bias;
    p.mult = mult;
    p.mult_x = mult_x;
    p.shift = shift;
    p.a_out_bits = a_out_bits;
    return p;
}

namespace {

std::string shape_text(int c, int h, int w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

// What tensor `j` is, for messages: "the image" or "node 3's output".
std::string tensor_text(int j) { return j == 0 ? "the image" : "node " + std::to_string(j - 1) + "'s output"; }

// The fields of a conv or fc layer after `kind` (and, in version 3, its inputs), checked against
// its input tensor `in`.
void parse_matrix_layer(Reader& r, NetworkLayer& L, const NetworkModel& m, std::uint32_t version, bool last,
                        const NetworkModel::Tensor& in, const std::string& in_what) {
    L.in_c = static_cast<int>(r.u32("in_c", 1, kMaxChannels));
    L.in_h = static_cast<int>(r.u32("in_h", 1, kMaxDim));
    L.in_w = static_cast<int>(r.u32("in_w", 1, kMaxDim));
    if (L.in_c != in.c || L.in_h != in.h || L.in_w != in.w)
        r.fail("input shape", "expected " + shape_text(in.c, in.h, in.w) + " (" + in_what + "), got " +
                                  shape_text(L.in_c, L.in_h, L.in_w));
    L.out_c = static_cast<int>(r.u32("out_c", 1, kMaxChannels));
    if (L.kind == LayerKind::kConv) {
        L.kernel = static_cast<int>(r.u32("kernel", 1, kMaxKernel));
        L.stride = static_cast<int>(r.u32("stride", 1, kMaxStride));
        L.padding = static_cast<int>(r.u32("padding", 0, static_cast<std::uint32_t>(L.kernel - 1)));
        if (L.in_h + 2 * L.padding < L.kernel || L.in_w + 2 * L.padding < L.kernel)
            r.fail("kernel", "a " + std::to_string(L.kernel) + "x" + std::to_string(L.kernel) +
                                 " kernel does not fit the padded input");
    } else {
        L.kernel = static_cast<int>(r.u32("kernel", 1, 1));
        L.stride = static_cast<int>(r.u32("stride", 1, 1));
        L.padding = static_cast<int>(r.u32("padding", 0, 0));
    }
    L.a_in_bits = static_cast<int>(
        r.u32("a_in_bits", static_cast<std::uint32_t>(in.bits), static_cast<std::uint32_t>(in.bits)));
    L.w_bits = static_cast<int>(r.scalar<std::uint32_t>("w_bits"));
    L.binary = r.u32("binary", 0, 1) == 1;
    if (L.binary ? L.w_bits != 1 : (L.w_bits < 2 || L.w_bits > 8))
        r.fail("w_bits", "expected 2..8 (or 1 with binary), got " + std::to_string(L.w_bits) +
                             (L.binary ? " with binary" : ""));
    L.rows_per_tile = static_cast<int>(r.u32("rows_per_tile", 0, kMaxDim));
    L.relu = r.u32("relu", last ? 0 : 1, last ? 0 : 1) == 1;
    L.a_out_bits = static_cast<int>(last ? r.u32("a_out_bits", 0, 0) : r.u32("a_out_bits", 1, 8));
    L.pool = static_cast<PoolKind>(r.u32("pool", 0, last ? 0 : 2));
    if (L.pool == PoolKind::kNone) {
        L.pool_size = static_cast<int>(r.u32("pool_size", 0, 0));
        L.pool_stride = static_cast<int>(r.u32("pool_stride", 0, 0));
    } else {
        L.pool_size = static_cast<int>(r.u32("pool_size", 1, kMaxPool));
        L.pool_stride = static_cast<int>(r.u32("pool_stride", 1, kMaxPool));
        if (L.out_h() < L.pool_size || L.out_w() < L.pool_size)
            r.fail("pool_size", "the window does not fit the " + std::to_string(L.out_h()) + "x" +
                                    std::to_string(L.out_w()) + " output");
    }
    L.shift = static_cast<int>(r.u32("shift", 0, last ? 0 : kMaxShift));
    const bool has_col = r.u32("has_col_mult", 0, 1) == 1;
    L.has_adc_tables = r.u32("has_adc_tables", 0, 1) == 1;
    if ((has_col || L.has_adc_tables) && L.rows_per_tile == 0)
        r.fail("rows_per_tile", "expected > 0 when the layer has column multipliers or ADC tables");
    if (L.has_adc_tables && (m.adc_bits == 0 || m.cell_bits == 0))
        r.fail("has_adc_tables", "ADC tables need the header's adc_bits and cell_bits to be set");
    if (version >= kVersion3) {
        // Read before the weights: their size depends on it.
        L.groups = static_cast<int>(r.u32("groups", 1, L.kind == LayerKind::kFc ? 1 : static_cast<std::uint32_t>(L.in_c)));
        if (L.in_c % L.groups != 0 || L.out_c % L.groups != 0)
            r.fail("groups", "expected a divisor of in_c = " + std::to_string(L.in_c) + " and out_c = " +
                                 std::to_string(L.out_c) + ", got " + std::to_string(L.groups));
        if (L.groups > 1 && (L.binary || has_col || L.has_adc_tables))
            r.fail("groups", "a grouped conv (groups " + std::to_string(L.groups) +
                                 ") expected binary 0, has_col_mult 0 and has_adc_tables 0");
    }

    const std::size_t K = static_cast<std::size_t>(L.K()), M = static_cast<std::size_t>(L.M());
    L.weights = r.array<std::int8_t>(M * K, "weights");
    const int wmin = L.binary ? -1 : -(1 << (L.w_bits - 1)), wmax = L.binary ? 1 : (1 << (L.w_bits - 1)) - 1;
    for (std::size_t j = 0; j < L.weights.size(); ++j) {
        const int v = L.weights[j];
        if (v < wmin || v > wmax || (L.binary && v == 0))
            r.fail("weights[" + std::to_string(j) + "]",
                   "expected " + (L.binary ? std::string("-1 or +1") : std::to_string(wmin) + ".." + std::to_string(wmax)) +
                       ", got " + std::to_string(v));
    }
    L.bias = r.array<std::int64_t>(M, "bias");
    L.mult = r.array<std::int32_t>(M, "mult");
    L.mult_x = r.array<std::int32_t>(M, "mult_x");
    const int rt = L.rows_per_tile > 0 ? row_tiles_of(L) : 0;
    if (has_col) L.col_mult = r.array<std::int32_t>(static_cast<std::size_t>(rt) * M, "col_mult");
    if (L.has_adc_tables) {
        const std::size_t n = static_cast<std::size_t>(rt) * M * L.slices(m.cell_bits);
        L.adc_step = r.array<std::int64_t>(n, "adc_step");
        L.adc_base = r.array<std::int64_t>(n, "adc_base");
        for (std::size_t j = 0; j < n; ++j)
            if (L.adc_step[j] <= 0)
                r.fail("adc_step[" + std::to_string(j) + "]", "expected > 0, got " + std::to_string(L.adc_step[j]));
    }

    if (version >= kVersion2) parse_swis_storage(r, L);

    // Post-processing must fit int64: bound |acc| from the largest inputs, weights and multipliers.
    double max_w = L.binary ? 1.0 : std::ldexp(1.0, L.w_bits - 1);
    double max_col = 1.0;
    for (auto v : L.col_mult) max_col = std::max(max_col, std::fabs(static_cast<double>(v)));
    const double max_x = std::ldexp(1.0, L.a_in_bits) - 1.0;
    double max_acc = static_cast<double>(K) * max_x * max_w * max_col;
    if (L.has_adc_tables) max_acc *= 4.0;  // ADC clamping can overshoot the ideal sum; keep a wide margin
    // A block's input sum covers its groups' inputs, at most all in_c channels.
    const double sx_terms = L.grouped() ? static_cast<double>(L.in_c) * L.kernel * L.kernel : static_cast<double>(K);
    for (std::size_t o = 0; o < M; ++o) {
        const double v = max_acc * std::fabs(static_cast<double>(L.mult[o])) +
                         sx_terms * max_x * std::fabs(static_cast<double>(L.mult_x[o])) +
                         std::fabs(static_cast<double>(L.bias[o]));
        if (v > kAffineLimit)
            r.fail("mult[" + std::to_string(o) + "]", "post-processing could overflow 64 bits (|acc*mult + Sx*mult_x + bias| up to " +
                                                           std::to_string(v) + ")");
    }
    if (last && L.vectors() != 1)
        r.fail("out_h x out_w", "the last layer must produce one vector of logits, got " +
                                    std::to_string(L.out_h()) + "x" + std::to_string(L.out_w()));
    if (last && L.out_c != m.num_classes)
        r.fail("out_c", "the last layer must have num_classes = " + std::to_string(m.num_classes) + " outputs, got " +
                            std::to_string(L.out_c));
}

// The fields of an add, concat or pool node (version 3) after its inputs.
void parse_tensor_node(Reader& r, NetworkLayer& L, const NetworkModel& m) {
    const NetworkModel::Tensor in0 = m.tensor(static_cast<std::size_t>(L.inputs[0]));
    L.in_c = static_cast<int>(r.u32("in_c", 1, kMaxChannels));
    L.in_h = static_cast<int>(r.u32("in_h", 1, kMaxDim));
    L.in_w = static_cast<int>(r.u32("in_w", 1, kMaxDim));
    if (L.in_c != in0.c || L.in_h != in0.h || L.in_w != in0.w)
        r.fail("input shape", "expected " + shape_text(in0.c, in0.h, in0.w) + " (input 0, " +
                                  tensor_text(L.inputs[0]) + "), got " + shape_text(L.in_c, L.in_h, L.in_w));
    std::int64_t channels = 0;
    for (std::size_t i = 0; i < L.inputs.size(); ++i) {
        const NetworkModel::Tensor t = m.tensor(static_cast<std::size_t>(L.inputs[i]));
        const std::string what = "input " + std::to_string(i) + " (" + tensor_text(L.inputs[i]) + ", " +
                                 shape_text(t.c, t.h, t.w) + ")";
        if (t.bits == 0) r.fail("inputs[" + std::to_string(i) + "]", what + " is the logits, not a map");
        if (L.kind == LayerKind::kAdd && (t.c != in0.c || t.h != in0.h || t.w != in0.w))
            r.fail("inputs[" + std::to_string(i) + "]",
                   "expected the shape of input 0, " + shape_text(in0.c, in0.h, in0.w) + ", got " + what);
        if (L.kind == LayerKind::kConcat && (t.h != in0.h || t.w != in0.w))
            r.fail("inputs[" + std::to_string(i) + "]", "expected input 0's height and width " +
                                                            std::to_string(in0.h) + "x" + std::to_string(in0.w) +
                                                            ", got " + what);
        channels += t.c;
    }
    if (L.kind == LayerKind::kConcat && channels > kMaxChannels)
        r.fail("out_c", "the inputs' channels add up to " + std::to_string(channels) + ", above " +
                            std::to_string(kMaxChannels));
    // add, pool: in_c; concat: the inputs' channels.
    const auto want_c = static_cast<std::uint32_t>(L.kind == LayerKind::kConcat ? channels : L.in_c);
    L.out_c = static_cast<int>(r.u32("out_c", want_c, want_c));
    L.a_out_bits = static_cast<int>(r.u32("a_out_bits", 1, 8));
    L.shift = static_cast<int>(r.u32("shift", 0, kMaxShift));
    L.pool = static_cast<PoolKind>(r.u32("pool", 0, L.kind == LayerKind::kPool ? 3 : 0));
    if (L.pool == PoolKind::kMax || L.pool == PoolKind::kAvg) {
        L.pool_size = static_cast<int>(r.u32("pool_size", 1, kMaxPool));
        L.pool_stride = static_cast<int>(r.u32("pool_stride", 1, kMaxPool));
        if (L.in_h < L.pool_size || L.in_w < L.pool_size)
            r.fail("pool_size", "the window does not fit the " + std::to_string(L.in_h) + "x" +
                                    std::to_string(L.in_w) + " input");
    } else {
        L.pool_size = static_cast<int>(r.u32("pool_size", 0, 0));
        L.pool_stride = static_cast<int>(r.u32("pool_stride", 0, 0));
    }
    L.relu = true;
    const std::size_t n = L.inputs.size();
    L.mult = r.array<std::int32_t>(n, "mult");
    L.bias = r.array<std::int64_t>(n, "bias");
    // The int64 bound: sum over inputs of |mult_i| * (2^bits_i - 1) * (pixels for a global average) + |bias_i|.
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;
    const std::uint64_t pixels = L.pool == PoolKind::kGlobalAvg ? static_cast<std::uint64_t>(L.in_h) * L.in_w : 1;
    std::uint64_t bound = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const NetworkModel::Tensor t = m.tensor(static_cast<std::size_t>(L.inputs[i]));
        const std::uint64_t mult = static_cast<std::uint64_t>(std::llabs(static_cast<std::int64_t>(L.mult[i])));
        const std::uint64_t bias = L.bias[i] < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(L.bias[i])
                                                 : static_cast<std::uint64_t>(L.bias[i]);
        // Each term is below 2^64: |mult| <= 2^31, a code < 2^8, pixels <= 2^24.
        const std::uint64_t term = mult * ((std::uint64_t{1} << t.bits) - 1) * pixels;
        if (term >= kLimit || bias >= kLimit || (bound += term) >= kLimit || (bound += bias) >= kLimit)
            r.fail("mult[" + std::to_string(i) + "]",
                   "expected sum over inputs of |mult_i| * (2^bits_i - 1)" +
                       std::string(pixels > 1 ? " * in_h * in_w" : "") + " + |bias_i| below 2^62 (int64 arithmetic)");
    }
}

}  // namespace

NetworkModel parse_model(const std::vector<std::uint8_t>& bytes, const std::string& source) {
    constexpr std::size_t kFooter = 16;
    if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
        throw ModelError(source + ": magic: expected \"CIMVPMDL\" at byte 0 (not a cimvp model file)");
    if (bytes.size() < sizeof(kMagic) + 4 + kFooter)
        throw ModelError(source + ": truncated: " + std::to_string(bytes.size()) + " bytes is shorter than a header");
    Reader r(bytes, bytes.size() - kFooter, source);
    r.text(8, "magic");
    const auto version = r.scalar<std::uint32_t>("version");
    if (version != kVersion1 && version != kVersion2 && version != kVersion3)
        r.fail("version", "expected 1, 2 or 3, got " + std::to_string(version));
    // The footer is only trusted once the header says what the file is.
    const std::uint8_t* foot = &bytes[bytes.size() - kFooter];
    if (std::memcmp(foot + 8, kEndMagic, sizeof(kEndMagic)) != 0)
        throw ModelError(source + ": footer: expected \"CIMVPEND\" in the last 8 bytes (truncated or not a cimvp model file)");
    std::uint64_t stored;
    std::memcpy(&stored, foot, sizeof stored);
    const std::uint64_t actual = fnv1a64(bytes.data(), bytes.size() - kFooter);
    if (stored != actual) throw ModelError(source + ": checksum: the file is corrupted (FNV-1a 64 mismatch)");

    const bool graph = version == kVersion3;
    NetworkModel m;
    m.path = source;
    const std::uint32_t n_layers = graph ? r.u32("n_nodes", 1, kMaxNodes) : r.u32("n_layers", 1, kMaxLayers);
    m.in_c = static_cast<int>(r.u32("in_channels", 1, kMaxChannels));
    m.in_h = static_cast<int>(r.u32("in_height", 1, kMaxDim));
    m.in_w = static_cast<int>(r.u32("in_width", 1, kMaxDim));
    m.in_bits = static_cast<int>(r.u32("in_bits", 1, 8));
    m.num_classes = static_cast<int>(r.u32("num_classes", 1, kMaxChannels));
    m.scheme = r.text(kSchemeBytes, "scheme");
    if (m.scheme != "int8" && m.scheme != "bwma" && m.scheme != "columnwise")
        r.fail("scheme", "expected int8, bwma or columnwise, got \"" + m.scheme + "\"");
    m.name = r.text(kNameBytes, "name");
    m.cell_bits = static_cast<int>(r.u32("cell_bits", 0, 2));
    m.dac_bits = static_cast<int>(r.u32("dac_bits", 0, 8));
    m.adc_bits = static_cast<int>(r.u32("adc_bits", 0, 16));
    m.frac_bits = static_cast<int>(r.u32("frac_bits", 0, 16));

    const char* noun = graph ? "node " : "layer ";
    for (std::uint32_t i = 0; i < n_layers; ++i) {
        NetworkLayer L;
        const bool last = i + 1 == n_layers;
        r.context(noun + std::to_string(i));
        L.kind = static_cast<LayerKind>(r.u32("kind", 1, graph ? 5 : 2));
        r.context(noun + std::to_string(i) + " (" + kind_name(L.kind) + ")");
        if (graph) {
            const std::uint32_t lo = L.kind == LayerKind::kAdd ? 2 : L.kind == LayerKind::kConcat ? 2 : 1;
            const std::uint32_t hi = L.kind == LayerKind::kAdd ? 2 : L.kind == LayerKind::kConcat ? kMaxConcatInputs : 1;
            const std::uint32_t n_inputs = r.u32("n_inputs", lo, hi);
            for (std::uint32_t j = 0; j < n_inputs; ++j) {
                const std::string field = "inputs[" + std::to_string(j) + "]";
                const std::uint32_t v = r.scalar<std::uint32_t>(field);
                if (v > i)
                    r.fail(field, "expected 0.." + std::to_string(i) + " (the image or a node before this one: " +
                                      "a graph has no cycle), got " + std::to_string(v) +
                                      (v <= n_layers ? " (node " + std::to_string(v - 1) + ", not before it)" : ""));
                L.inputs.push_back(static_cast<int>(v));
            }
            if (last && L.is_tensor())
                r.fail("kind", "the last node must be a conv or fc (the logits), got " + std::string(kind_name(L.kind)));
        } else {
            L.inputs = {static_cast<int>(i)};
        }
        if (L.is_matrix()) {
            const std::size_t src = static_cast<std::size_t>(L.inputs[0]);
            const NetworkModel::Tensor in = m.tensor(src);
            if (in.bits == 0) r.fail("inputs[0]", tensor_text(L.inputs[0]) + " is the logits, not a map");
            parse_matrix_layer(r, L, m, version, last, in, graph ? "input 0, " + tensor_text(L.inputs[0]) : "the previous output");
        } else {
            parse_tensor_node(r, L, m);
        }
        m.layers.push_back(std::move(L));
    }
    if (graph) {
        // Every tensor but the logits feeds a later node.
        const std::vector<int> consumer = m.last_consumers();
        for (std::size_t j = 0; j + 1 < consumer.size(); ++j)
            if (consumer[j] < 0) {
                r.context(j == 0 ? "" : noun + std::to_string(j - 1) + " (" + kind_name(m.layers[j - 1].kind) + ")");
                r.fail("output", "expected " + tensor_text(static_cast<int>(j)) +
                                     " to be an input of a later node (only the last node's output is unused)");
            }
    }
    r.context("");
    if (r.offset() != bytes.size() - kFooter)
        throw ModelError(source + ": " + std::to_string(bytes.size() - kFooter - r.offset()) +
                         " unexpected bytes after the last layer, at byte " + std::to_string(r.offset()));
    return m;
}

NetworkModel load_model(const std::string& path) {
    return parse_model(read_input_file_or_throw<ModelError>(path, "model file", kMaxModelFileBytes), path);
}

std::vector<std::uint8_t> serialize_model(const NetworkModel& m) {
    Writer w;
    const bool v3 = !m.is_chain();
    bool v2 = false;
    for (const auto& L : m.layers) v2 = v2 || L.swis.has_value();
    w.text(std::string(kMagic, sizeof kMagic), sizeof kMagic);
    w.scalar<std::uint32_t>(v3 ? kVersion3 : v2 ? kVersion2 : kVersion1);
    w.scalar<std::uint32_t>(static_cast<std::uint32_t>(m.layers.size()));
    for (int v : {m.in_c, m.in_h, m.in_w, m.in_bits, m.num_classes}) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
    w.text(m.scheme, kSchemeBytes);
    w.text(m.name, kNameBytes);
    for (int v : {m.cell_bits, m.dac_bits, m.adc_bits, m.frac_bits}) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const NetworkLayer& L = m.layers[i];
        w.scalar<std::uint32_t>(static_cast<std::uint32_t>(L.kind));
        if (v3) {
            const std::vector<int> in = m.inputs_of(i);
            w.scalar<std::uint32_t>(static_cast<std::uint32_t>(in.size()));
            for (int j : in) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(j));
        }
        if (L.is_tensor()) {
            for (int v : {L.in_c, L.in_h, L.in_w, L.out_c, L.a_out_bits})
                w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
            w.scalar<std::int32_t>(L.shift);
            for (int v : {static_cast<int>(L.pool), L.pool_size, L.pool_stride})
                w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
            w.array(L.mult);
            w.array(L.bias);
            continue;
        }
        for (int v : {L.in_c, L.in_h, L.in_w, L.out_c, L.kernel, L.stride, L.padding,
                      L.a_in_bits, L.w_bits, static_cast<int>(L.binary), L.rows_per_tile, static_cast<int>(L.relu),
                      L.a_out_bits, static_cast<int>(L.pool), L.pool_size, L.pool_stride})
            w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
        w.scalar<std::int32_t>(L.shift);
        w.scalar<std::uint32_t>(L.col_mult.empty() ? 0 : 1);
        w.scalar<std::uint32_t>(L.has_adc_tables ? 1 : 0);
        if (v3) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(L.groups));
        w.array(L.weights);
        w.array(L.bias);
        w.array(L.mult);
        w.array(L.mult_x);
        w.array(L.col_mult);
        if (L.has_adc_tables) {
            w.array(L.adc_step);
            w.array(L.adc_base);
        }
        if (!v2 && !v3) continue;
        w.scalar<std::uint32_t>(L.swis ? 1 : 0);
        if (!L.swis) continue;
        w.scalar<std::uint32_t>(L.swis->variant == swis::Variant::kSwisC ? 1 : 0);
        w.scalar<std::uint32_t>(swis::kGroupSize);
        w.scalar<std::uint32_t>(static_cast<std::uint32_t>(L.swis->schedule_cols));
        for (int n : L.swis->filter_n) w.scalar<std::uint8_t>(static_cast<std::uint8_t>(n));
        w.scalar<std::uint32_t>(static_cast<std::uint32_t>(L.swis->packed.size()));
        w.array(L.swis->packed);
    }
    const std::uint64_t sum = fnv1a64(w.bytes().data(), w.bytes().size());
    w.scalar(sum);
    w.text(std::string(kEndMagic, sizeof kEndMagic), sizeof kEndMagic);
    return w.bytes();
}

void check_model_fits(const NetworkModel& m, const ArchConfig& cfg, const std::vector<bool>& on_pe) {
    const auto fail = [&](const std::string& where, const std::string& what) {
        throw ModelError(m.path + ": " + where + what + " (config " + cfg.source + ")");
    };
    if (m.cell_bits != 0 && m.cell_bits != cfg.crossbar.cell_bits)
        fail("", "cell_bits: the model needs crossbar.cell_bits = " + std::to_string(m.cell_bits) + ", the config has " +
                     std::to_string(cfg.crossbar.cell_bits));
    if (m.dac_bits != 0 && m.dac_bits != cfg.crossbar.dac_bits)
        fail("", "dac_bits: the model needs crossbar.dac_bits = " + std::to_string(m.dac_bits) + ", the config has " +
                     std::to_string(cfg.crossbar.dac_bits));
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        if (i < on_pe.size() && on_pe[i]) continue;
        const NetworkLayer& L = m.layers[i];
        if (L.is_tensor()) continue;  // the post-processing unit: no tiles
        const std::string where = m.layer_name(i) + ": ";
        if (L.rows_per_tile > cfg.crossbar.rows)
            fail(where, "rows_per_tile " + std::to_string(L.rows_per_tile) + " exceeds crossbar.rows " +
                            std::to_string(cfg.crossbar.rows));
        if (L.has_adc_tables && m.frac_bits != cfg.adc.frac_bits)
            fail(where, "ADC tables are in " + std::to_string(m.frac_bits) + " fraction bits, adc.frac_bits is " +
                            std::to_string(cfg.adc.frac_bits));
        try {
            if (L.grouped()) {
                const std::vector<ConvBlock> blocks = L.blocks(cfg.crossbar.rows);
                for (std::size_t b = 0; b < blocks.size(); ++b)
                    LayerMapping::make(L.block_matrix(blocks[b], m.layer_name(i) + " block " + std::to_string(b)), cfg);
            } else {
                LayerMapping::make(L.matrix(m.layer_name(i)), cfg);
            }
        } catch (const MappingError& e) {
            fail("", e.what());
        }
    }
}

}  // namespace cimvp
