#include "sw/formats/swis_packing.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace cimvp::swis {

namespace {

constexpr int kShiftFieldMask = (1 << kShiftBits) - 1;

class BitWriter {
public:
    void put(unsigned v, int bits) {
        for (int b = 0; b < bits; ++b) {
            if (pos_ % 8 == 0) bytes_.push_back(0);
            if (v >> b & 1) bytes_.back() |= static_cast<std::uint8_t>(1u << (pos_ % 8));
            ++pos_;
        }
    }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
    std::int64_t pos_ = 0;
};

class BitReader {
public:
    explicit BitReader(const std::vector<std::uint8_t>& b) : bytes_(b) {}
    unsigned get(int bits) {
        unsigned v = 0;
        for (int b = 0; b < bits; ++b, ++pos_) v |= static_cast<unsigned>(bytes_[pos_ / 8] >> (pos_ % 8) & 1) << b;
        return v;
    }
    std::int64_t pos() const { return pos_; }

private:
    const std::vector<std::uint8_t>& bytes_;
    std::int64_t pos_ = 0;
};

std::string group_name(const LayerShape& shape, std::size_t gi) {
    const std::size_t per_filter = static_cast<std::size_t>(shape.groups_per_filter());
    const int cgroups = (shape.channels + kGroupSize - 1) / kGroupSize;
    const std::size_t f = gi / per_filter, r = gi % per_filter;
    const std::size_t ky = r / (static_cast<std::size_t>(shape.kernel_w) * cgroups);
    const std::size_t kx = r / cgroups % shape.kernel_w;
    const std::size_t cg = r % cgroups;
    return "group " + std::to_string(gi) + " (filter " + std::to_string(f) + ", ky " + std::to_string(ky) + ", kx " +
           std::to_string(kx) + ", channels " + std::to_string(cg * kGroupSize) + "..)";
}

// Lanes that hold a weight in group gi.
int lanes_in(const LayerShape& shape, std::size_t gi) {
    const int cgroups = (shape.channels + kGroupSize - 1) / kGroupSize;
    const int cg = static_cast<int>(gi % cgroups);
    return std::min(kGroupSize, shape.channels - cg * kGroupSize);
}

// Why g is not a valid group of N = n in `variant` for `lanes` weights; empty if it is.
std::string group_problem(const Group& g, int n, Variant variant, int lanes) {
    if (g.n != n) return "N: expected the filter's " + std::to_string(n) + ", got " + std::to_string(g.n);
    for (int j = 0; j < n; ++j) {
        if (g.shift[j] >= kShiftPositions) return "shift " + std::to_string(j) + ": expected 0..7";
        if (j > 0 && g.shift[j] >= g.shift[j - 1])
            return "shifts: expected distinct and descending, got " + std::to_string(g.shift[j - 1]) + " then " +
                   std::to_string(g.shift[j]);
        if (variant == Variant::kSwisC && j > 0 && g.shift[j] != g.shift[j - 1] - 1)
            return "shifts: expected consecutive positions (SWIS-C)";
    }
    const unsigned used = (1u << n) - 1;
    for (int i = 0; i < kMaxGroupSize; ++i) {
        if (g.mask[i] & ~used) return "mask " + std::to_string(i) + ": bits beyond N";
        if (i >= lanes && (g.mask[i] || (g.sign >> i & 1)))
            return "lane " + std::to_string(i) + ": expected empty (beyond the layer's channels)";
        if (std::abs(g.weight(i)) > kMaxMagnitude)
            return "weight " + std::to_string(i) + ": magnitude " + std::to_string(std::abs(g.weight(i))) +
                   " exceeds 127";
    }
    if (g.sign >> kGroupSize) return "sign: bits beyond the group";
    return {};
}

void check_pe_group_size(const char* what, const LayerShape& shape) {
    if (shape.group_size != kGroupSize)
        throw SwisError(std::string("swis: ") + what + ": group size: the model file's groups are " +
                        std::to_string(kGroupSize) + " weights, got " + std::to_string(shape.group_size));
}

}  // namespace

std::vector<std::uint8_t> pack_groups(const DecomposedLayer& layer) {
    const LayerShape& shape = layer.shape;
    check_pe_group_size("pack", shape);
    const std::size_t per_filter = static_cast<std::size_t>(shape.groups_per_filter());
    if (layer.shifts.size() != static_cast<std::size_t>(shape.filters) || layer.groups.size() != per_filter * shape.filters)
        throw SwisError("swis: pack: expected " + std::to_string(shape.filters) + " shift counts and " +
                        std::to_string(per_filter * shape.filters) + " groups, got " +
                        std::to_string(layer.shifts.size()) + " and " + std::to_string(layer.groups.size()));
    BitWriter out;
    for (std::size_t gi = 0; gi < layer.groups.size(); ++gi) {
        const Group& g = layer.groups[gi];
        const int n = layer.shifts[gi / per_filter];
        if (n < 1 || n > kShiftPositions)
            throw SwisError("swis: pack: filter " + std::to_string(gi / per_filter) + ": N: expected 1..8, got " +
                            std::to_string(n));
        const std::string problem = group_problem(g, n, layer.variant, lanes_in(shape, gi));
        if (!problem.empty()) throw SwisError("swis: pack: " + group_name(shape, gi) + ": " + problem);
        out.put(g.sign, kGroupSize);
        if (layer.variant == Variant::kSwisC) {
            out.put(g.shift[n - 1], kShiftBits);
        } else {
            for (int j = 0; j < n; ++j) out.put(g.shift[j], kShiftBits);
        }
        for (int j = 0; j < n; ++j) {
            unsigned plane = 0;
            for (int i = 0; i < kGroupSize; ++i) plane |= static_cast<unsigned>(g.mask[i] >> j & 1) << i;
            out.put(plane, kGroupSize);
        }
    }
    return out.take();
}

DecomposedLayer unpack_groups(const std::vector<std::uint8_t>& bytes, const LayerShape& shape, Variant variant,
                              const std::vector<int>& filter_n) {
    if (shape.filters < 1 || shape.channels < 1 || shape.kernel_h < 1 || shape.kernel_w < 1)
        throw SwisError("swis: unpack: layer shape: expected positive filters, channels and kernel");
    check_pe_group_size("unpack", shape);
    if (filter_n.size() != static_cast<std::size_t>(shape.filters))
        throw SwisError("swis: unpack: filter shift counts: expected " + std::to_string(shape.filters) + ", got " +
                        std::to_string(filter_n.size()));
    const std::size_t per_filter = static_cast<std::size_t>(shape.groups_per_filter());
    std::int64_t bits = 0;
    for (int f = 0; f < shape.filters; ++f) {
        if (filter_n[f] < 1 || filter_n[f] > kShiftPositions)
            throw SwisError("swis: unpack: filter " + std::to_string(f) + ": N: expected 1..8, got " +
                            std::to_string(filter_n[f]));
        bits += static_cast<std::int64_t>(per_filter) * group_storage_bits(filter_n[f], variant);
    }
    const std::int64_t want = (bits + 7) / 8;
    if (static_cast<std::int64_t>(bytes.size()) != want)
        throw SwisError("swis: unpack: size: expected " + std::to_string(want) + " bytes (" + std::to_string(bits) +
                        " bits), got " + std::to_string(bytes.size()));
    DecomposedLayer d;
    d.shape = shape;
    d.variant = variant;
    d.shifts = filter_n;
    d.groups.resize(per_filter * shape.filters);
    BitReader in(bytes);
    for (std::size_t gi = 0; gi < d.groups.size(); ++gi) {
        const int n = filter_n[gi / per_filter];
        Group& g = d.groups[gi];
        g.n = static_cast<std::uint8_t>(n);
        g.sign = static_cast<std::uint8_t>(in.get(kGroupSize));
        if (variant == Variant::kSwisC) {
            const int o = static_cast<int>(in.get(kShiftBits));
            if (o + n > kShiftPositions)
                throw SwisError("swis: unpack: " + group_name(shape, gi) + ": offset: expected 0.." +
                                std::to_string(kShiftPositions - n) + " for N = " + std::to_string(n) + ", got " +
                                std::to_string(o));
            for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(o + n - 1 - j);
        } else {
            for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(in.get(kShiftBits) & kShiftFieldMask);
        }
        for (int j = 0; j < n; ++j) {
            const unsigned plane = in.get(kGroupSize);
            for (int i = 0; i < kGroupSize; ++i)
                if (plane >> i & 1) g.mask[i] |= static_cast<std::uint8_t>(1u << j);
        }
        const std::string problem = group_problem(g, n, variant, lanes_in(shape, gi));
        if (!problem.empty()) throw SwisError("swis: unpack: " + group_name(shape, gi) + ": " + problem);
    }
    if (in.pos() % 8 != 0 && in.get(static_cast<int>(8 - in.pos() % 8)) != 0)
        throw SwisError("swis: unpack: padding: expected zero bits after the last group");
    return d;
}

}  // namespace cimvp::swis
