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
constexpr std::uint32_t kMaxLayers = 64;
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

const char* kind_name(LayerKind k) { return k == LayerKind::kConv ? "conv" : "fc"; }

int row_tiles_of(const NetworkLayer& l) { return (l.K() + l.rows_per_tile - 1) / l.rows_per_tile; }

// Format v2: the layer's SWIS storage after its v1 fields (docs/model-format.md).
void parse_swis_storage(Reader& r, NetworkLayer& L) {
    if (r.u32("swis", 0, 1) == 0) return;
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

std::string NetworkModel::layer_name(std::size_t i) const {
    return "layer " + std::to_string(i) + " (" + kind_name(layers.at(i).kind) + ")";
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

NetworkModel parse_model(const std::vector<std::uint8_t>& bytes, const std::string& source) {
    constexpr std::size_t kFooter = 16;
    if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
        throw ModelError(source + ": magic: expected \"CIMVPMDL\" at byte 0 (not a cimvp model file)");
    if (bytes.size() < sizeof(kMagic) + 4 + kFooter)
        throw ModelError(source + ": truncated: " + std::to_string(bytes.size()) + " bytes is shorter than a header");
    Reader r(bytes, bytes.size() - kFooter, source);
    r.text(8, "magic");
    const auto version = r.scalar<std::uint32_t>("version");
    if (version != kVersion1 && version != kVersion2)
        r.fail("version", "expected 1 or 2, got " + std::to_string(version));
    // The footer is only trusted once the header says what the file is.
    const std::uint8_t* foot = &bytes[bytes.size() - kFooter];
    if (std::memcmp(foot + 8, kEndMagic, sizeof(kEndMagic)) != 0)
        throw ModelError(source + ": footer: expected \"CIMVPEND\" in the last 8 bytes (truncated or not a cimvp model file)");
    std::uint64_t stored;
    std::memcpy(&stored, foot, sizeof stored);
    const std::uint64_t actual = fnv1a64(bytes.data(), bytes.size() - kFooter);
    if (stored != actual) throw ModelError(source + ": checksum: the file is corrupted (FNV-1a 64 mismatch)");

    NetworkModel m;
    m.path = source;
    const std::uint32_t n_layers = r.u32("n_layers", 1, kMaxLayers);
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

    int c = m.in_c, h = m.in_h, w = m.in_w, bits = m.in_bits;
    for (std::uint32_t i = 0; i < n_layers; ++i) {
        NetworkLayer L;
        const bool last = i + 1 == n_layers;
        r.context("layer " + std::to_string(i));
        L.kind = static_cast<LayerKind>(r.u32("kind", 1, 2));
        r.context("layer " + std::to_string(i) + " (" + kind_name(L.kind) + ")");
        L.in_c = static_cast<int>(r.u32("in_c", 1, kMaxChannels));
        L.in_h = static_cast<int>(r.u32("in_h", 1, kMaxDim));
        L.in_w = static_cast<int>(r.u32("in_w", 1, kMaxDim));
        if (L.in_c != c || L.in_h != h || L.in_w != w)
            r.fail("input shape", "expected " + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                                      " (the previous output), got " + std::to_string(L.in_c) + "x" +
                                      std::to_string(L.in_h) + "x" + std::to_string(L.in_w));
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
        L.a_in_bits = static_cast<int>(r.u32("a_in_bits", static_cast<std::uint32_t>(bits), static_cast<std::uint32_t>(bits)));
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
        for (std::size_t o = 0; o < M; ++o) {
            const double v = max_acc * std::fabs(static_cast<double>(L.mult[o])) +
                             static_cast<double>(K) * max_x * std::fabs(static_cast<double>(L.mult_x[o])) +
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
        c = L.out_c;
        h = L.pooled_h();
        w = L.pooled_w();
        bits = L.a_out_bits;
        m.layers.push_back(std::move(L));
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
    bool v2 = false;
    for (const auto& L : m.layers) v2 = v2 || L.swis.has_value();
    w.text(std::string(kMagic, sizeof kMagic), sizeof kMagic);
    w.scalar<std::uint32_t>(v2 ? kVersion2 : kVersion1);
    w.scalar<std::uint32_t>(static_cast<std::uint32_t>(m.layers.size()));
    for (int v : {m.in_c, m.in_h, m.in_w, m.in_bits, m.num_classes}) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
    w.text(m.scheme, kSchemeBytes);
    w.text(m.name, kNameBytes);
    for (int v : {m.cell_bits, m.dac_bits, m.adc_bits, m.frac_bits}) w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
    for (const auto& L : m.layers) {
        for (int v : {static_cast<int>(L.kind), L.in_c, L.in_h, L.in_w, L.out_c, L.kernel, L.stride, L.padding,
                      L.a_in_bits, L.w_bits, static_cast<int>(L.binary), L.rows_per_tile, static_cast<int>(L.relu),
                      L.a_out_bits, static_cast<int>(L.pool), L.pool_size, L.pool_stride})
            w.scalar<std::uint32_t>(static_cast<std::uint32_t>(v));
        w.scalar<std::int32_t>(L.shift);
        w.scalar<std::uint32_t>(L.col_mult.empty() ? 0 : 1);
        w.scalar<std::uint32_t>(L.has_adc_tables ? 1 : 0);
        w.array(L.weights);
        w.array(L.bias);
        w.array(L.mult);
        w.array(L.mult_x);
        w.array(L.col_mult);
        if (L.has_adc_tables) {
            w.array(L.adc_step);
            w.array(L.adc_base);
        }
        if (!v2) continue;
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
        const std::string where = m.layer_name(i) + ": ";
        if (L.rows_per_tile > cfg.crossbar.rows)
            fail(where, "rows_per_tile " + std::to_string(L.rows_per_tile) + " exceeds crossbar.rows " +
                            std::to_string(cfg.crossbar.rows));
        if (L.has_adc_tables && m.frac_bits != cfg.adc.frac_bits)
            fail(where, "ADC tables are in " + std::to_string(m.frac_bits) + " fraction bits, adc.frac_bits is " +
                            std::to_string(cfg.adc.frac_bits));
        try {
            LayerMapping::make(L.matrix(m.layer_name(i)), cfg);
        } catch (const MappingError& e) {
            fail("", e.what());
        }
    }
}

}  // namespace cimvp
