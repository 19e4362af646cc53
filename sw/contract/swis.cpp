#include "sw/contract/swis.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <queue>
#include <tuple>

#include "sw/support/parallel_for.h"

namespace cimvp::swis {

namespace {

constexpr int kSets = 1 << kShiftPositions;                // every subset of the 8 positions

// The shift sets in enumeration order within each size: the sets of N
// positions occupy columns [first[N], first[N + 1]) of the tables below, in
// increasing mask value (bit p = position p), so a size's sets are contiguous.
struct SetOrder {
    std::array<int, kSets> set{};  // column -> set mask
    std::array<int, kShiftPositions + 2> first{};
    std::array<std::vector<int>, kShiftPositions + 1> consecutive;  // SWIS-C windows by offset, as columns
    SetOrder() {
        int q = 0;
        for (int n = 0; n <= kShiftPositions; ++n) {
            first[n] = q;
            for (int s = 0; s < kSets; ++s)
                if (__builtin_popcount(static_cast<unsigned>(s)) == n) set[q++] = s;
        }
        first[kShiftPositions + 1] = q;
        for (int n = 1; n <= kShiftPositions; ++n)
            for (int o = 0; o + n <= kShiftPositions; ++o) {
                const int window = ((1 << n) - 1) << o;
                for (int c = first[n]; c < first[n + 1]; ++c)
                    if (set[c] == window) consecutive[n].push_back(c);
            }
    }
};

const SetOrder& set_order() {
    static const SetOrder o;
    return o;
}

// For every magnitude m (0..127) and set column: the nearest level (a subset
// sum of the set, <= 127, the smaller one on a tie) and m minus it. Levels of
// S and S | 0x80 are the same: 128 does not fit.
struct LevelTables {
    std::array<std::array<std::uint8_t, kSets>, kMaxMagnitude + 1> level{};
    std::array<std::array<std::int16_t, kSets>, kMaxMagnitude + 1> diff{};
    std::array<std::array<std::uint16_t, kSets>, kMaxMagnitude + 1> diff2{};  // diff squared

    LevelTables() {
        const SetOrder& o = set_order();
        for (int c = 0; c < kSets; ++c) {
            const int usable = o.set[c] & kMaxMagnitude;
            for (int m = 0; m <= kMaxMagnitude; ++m) {
                int best = 0;
                // Every subset of `usable`, descending; the last minimum is the smallest level.
                for (int sub = usable;; sub = (sub - 1) & usable) {
                    if (std::abs(m - sub) <= std::abs(m - best)) best = sub;
                    if (sub == 0) break;
                }
                level[m][c] = static_cast<std::uint8_t>(best);
                diff[m][c] = static_cast<std::int16_t>(m - best);
                diff2[m][c] = static_cast<std::uint16_t>((m - best) * (m - best));
            }
        }
    }
};

const LevelTables& tables() {
    static const LevelTables t;
    return t;
}

int magnitude(std::int8_t w) { return std::min(std::abs(int{w}), kMaxMagnitude); }

// M times MSE++ from the summed and the squared signed errors.
inline double cost_of(int sum, int sumsq, double alpha) {
    return alpha * static_cast<double>(sum) * static_cast<double>(sum) + static_cast<double>(sumsq);
}

// M times the MSE++ of one group against every set column, from the signed
// errors e_i = w_i - decomposed w_i = sign_i * (m_i - level).
// An integral alpha (0 and 1, the usual ones) keeps the whole cost in int32
// (|sum e| <= M * 127 < 2^15, sum e^2 <= M * 127^2 < 2^18); the values are the
// same either way. Narrow lanes keep the per-weight work to a few vector adds.
struct GroupCosts {
    alignas(32) std::array<std::int16_t, kSets> sum{};
    alignas(32) std::array<std::uint32_t, kSets> sumsq{};
    alignas(32) std::array<double, kSets> cost{};
    alignas(32) std::array<std::int32_t, kSets> icost{};
    bool integral = false;  // icost holds the costs, else cost
    double at(int c) const { return integral ? icost[c] : cost[c]; }
};

// An alpha whose cost alpha (sum e)^2 + sum e^2 stays in int32 for any group of M weights:
// alpha (127 M)^2 + 127^2 M < 2^31 (M = 4: up to 8321; M = 16: 520).
bool integral_alpha(double alpha, int group_size) {
    const double m = 127.0 * group_size;
    const double max_alpha = std::floor((2147483647.0 - 127.0 * m) / (m * m));
    return alpha >= 0 && alpha <= max_alpha && alpha == std::floor(alpha);
}

void group_costs(const std::int8_t* w, int count, double alpha, int group_size, GroupCosts& e) {
    e.sum.fill(0);
    e.sumsq.fill(0);
    const LevelTables& t = tables();
    for (int i = 0; i < count; ++i) {
        const int m = magnitude(w[i]);
        const std::int16_t* row = t.diff[m].data();
        const std::uint16_t* row2 = t.diff2[m].data();
        if (w[i] < 0) {
            for (int c = 0; c < kSets; ++c) e.sum[c] = static_cast<std::int16_t>(e.sum[c] - row[c]);
        } else {
            for (int c = 0; c < kSets; ++c) e.sum[c] = static_cast<std::int16_t>(e.sum[c] + row[c]);
        }
        for (int c = 0; c < kSets; ++c) e.sumsq[c] += row2[c];
    }
    if (integral_alpha(alpha, group_size)) {
        const std::int32_t a = static_cast<std::int32_t>(alpha);
        for (int c = 0; c < kSets; ++c)
            e.icost[c] = a * (e.sum[c] * e.sum[c]) + static_cast<std::int32_t>(e.sumsq[c]);
        e.integral = true;
    } else {
        e.integral = false;
        for (int c = 0; c < kSets; ++c) e.cost[c] = cost_of(e.sum[c], e.sumsq[c], alpha);
    }
}

// The first column of the lowest cost among `cols` (enumeration order).
template <typename Cols>
int first_min(const GroupCosts& e, const Cols& cols) {
    int best = -1;
    for (int c : cols)
        if (best < 0 || e.at(c) < e.at(best)) best = c;
    return best;
}

struct Range {
    int lo, hi;
    struct It {
        int v;
        int operator*() const { return v; }
        It& operator++() {
            ++v;
            return *this;
        }
        bool operator!=(const It& o) const { return v != o.v; }
    };
    It begin() const { return {lo}; }
    It end() const { return {hi}; }
};

// The group in SWIS form for the set in table column `col` (positions descending).
Group make_group(const std::int8_t* w, int count, int col) {
    Group g;
    const int set = set_order().set[col];
    for (int p = kShiftPositions - 1; p >= 0; --p)
        if (set >> p & 1) g.shift[g.n++] = static_cast<std::uint8_t>(p);
    const LevelTables& t = tables();
    for (int i = 0; i < count; ++i) {
        if (w[i] < 0) g.sign |= static_cast<std::uint16_t>(1u << i);
        const int level = t.level[magnitude(w[i])][col];
        for (int j = 0; j < g.n; ++j)
            if (level >> g.shift[j] & 1) g.mask[i] |= static_cast<std::uint8_t>(1u << j);
    }
    return g;
}

void check_n(int n) {
    if (n < 1 || n > kShiftPositions)
        throw SwisError("swis: shift count: expected 1..8, got " + std::to_string(n));
}

void check_group_size(int m) {
    if (m < 1 || m > kMaxGroupSize)
        throw SwisError("swis: group size: expected 1.." + std::to_string(kMaxGroupSize) + ", got " + std::to_string(m));
}

void check_shape(const std::vector<std::int8_t>& w, const LayerShape& shape) {
    check_group_size(shape.group_size);
    if (shape.filters < 1 || shape.channels < 1 || shape.kernel_h < 1 || shape.kernel_w < 1)
        throw SwisError("swis: layer shape: expected positive filters, channels and kernel, got " +
                        std::to_string(shape.filters) + " filters, " + std::to_string(shape.channels) +
                        " channels, kernel " + std::to_string(shape.kernel_h) + "x" + std::to_string(shape.kernel_w));
    const std::size_t want = static_cast<std::size_t>(shape.filters) * shape.K();
    if (w.size() != want)
        throw SwisError("swis: weights: expected filters x K = " + std::to_string(want) + ", got " +
                        std::to_string(w.size()));
}

// Visits every group of a layer in [filter][ky][kx][channel group] order with
// its weights gathered from the [filter][K] (c, ky, kx) layout.
template <typename Fn>
void for_each_group(const std::vector<std::int8_t>& w, const LayerShape& shape, int f, Fn&& fn) {
    const int kk = shape.kernel_h * shape.kernel_w;
    const int M = shape.group_size;
    const int cgroups = shape.channel_groups();
    const std::int8_t* row = w.data() + static_cast<std::size_t>(f) * shape.K();
    std::array<std::int8_t, kMaxGroupSize> g{};
    for (int ky = 0; ky < shape.kernel_h; ++ky)
        for (int kx = 0; kx < shape.kernel_w; ++kx)
            for (int cg = 0; cg < cgroups; ++cg) {
                const int c0 = cg * M;
                const int count = std::min(M, shape.channels - c0);
                for (int i = 0; i < count; ++i) g[i] = row[(c0 + i) * kk + ky * shape.kernel_w + kx];
                fn(g.data(), count);
            }
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

Group decompose_group(const std::int8_t* w, int count, const DecomposeOptions& opt) {
    check_n(opt.n);
    check_group_size(opt.group_size);
    if (count < 0 || count > opt.group_size)
        throw SwisError("swis: group: expected 0.." + std::to_string(opt.group_size) + " weights, got " +
                        std::to_string(count));
    GroupCosts e;
    group_costs(w, count, opt.alpha, opt.group_size, e);
    const SetOrder& o = set_order();
    const int col = opt.variant == Variant::kSwisC ? first_min(e, o.consecutive[opt.n])
                                                   : first_min(e, Range{o.first[opt.n], o.first[opt.n + 1]});
    return make_group(w, count, col);
}

double mse_pp(const std::int8_t* w, int count, const Group& g, double alpha, int group_size) {
    check_group_size(group_size);
    if (count < 0 || count > group_size)
        throw SwisError("swis: group: expected 0.." + std::to_string(group_size) + " weights, got " +
                        std::to_string(count));
    int sum = 0, sumsq = 0;
    for (int i = 0; i < count; ++i) {
        const int orig = w[i] < 0 ? -magnitude(w[i]) : magnitude(w[i]);
        const int e = orig - g.weight(i);
        sum += e;
        sumsq += e * e;
    }
    return cost_of(sum, sumsq, alpha) / group_size;
}

const char* variant_name(Variant v) { return v == Variant::kSwisC ? "swis-c" : "swis"; }

std::optional<Variant> parse_variant(const std::string& name) {
    for (Variant v : {Variant::kSwis, Variant::kSwisC})
        if (name == variant_name(v)) return v;
    return std::nullopt;
}

std::vector<std::int8_t> truncate_weights(const std::vector<std::int8_t>& w, int bits) {
    if (bits < 1 || bits > kShiftPositions)
        throw SwisError("swis: truncation bits: expected 1..8, got " + std::to_string(bits));
    int top = 0;
    for (std::int8_t v : w) top = std::max(top, magnitude(v));
    std::vector<std::int8_t> out(w.size());
    if (top == 0) return out;
    const int p = 31 - __builtin_clz(static_cast<unsigned>(top));
    const int low = p - bits + 1;
    const int max_code = (1 << bits) - 1;
    for (std::size_t i = 0; i < w.size(); ++i) {
        int m = magnitude(w[i]);
        if (low > 0) m = std::min((m + (1 << (low - 1))) >> low, max_code) << low;
        out[i] = static_cast<std::int8_t>(w[i] < 0 ? -m : m);
    }
    return out;
}

std::uint8_t activation_truncation_mask(int a_bits, int bits) {
    if (bits < 1 || bits > kShiftPositions)
        throw SwisError("swis: activation truncation bits: expected 1..8, got " + std::to_string(bits));
    if (a_bits < 1 || a_bits > 8)
        throw SwisError("swis: activation bits: expected 1..8, got " + std::to_string(a_bits));
    const int dropped = std::max(0, a_bits - bits);
    return static_cast<std::uint8_t>(((1u << a_bits) - 1) & ~((1u << dropped) - 1));
}

std::vector<std::int8_t> DecomposedLayer::weights() const {
    const int kk = shape.kernel_h * shape.kernel_w;
    const int M = shape.group_size;
    const int cgroups = shape.channel_groups();
    const std::size_t per_filter = static_cast<std::size_t>(kk) * cgroups;
    if (groups.size() != per_filter * shape.filters)
        throw SwisError("swis: decomposed layer: expected " + std::to_string(per_filter * shape.filters) +
                        " groups, got " + std::to_string(groups.size()));
    std::vector<std::int8_t> w(static_cast<std::size_t>(shape.filters) * shape.K());
    std::size_t gi = 0;
    for (int f = 0; f < shape.filters; ++f) {
        std::int8_t* row = w.data() + static_cast<std::size_t>(f) * shape.K();
        for (int ky = 0; ky < shape.kernel_h; ++ky)
            for (int kx = 0; kx < shape.kernel_w; ++kx)
                for (int cg = 0; cg < cgroups; ++cg) {
                    const Group& g = groups[gi++];
                    const int c0 = cg * M;
                    const int count = std::min(M, shape.channels - c0);
                    for (int i = 0; i < count; ++i)
                        row[(c0 + i) * kk + ky * shape.kernel_w + kx] = static_cast<std::int8_t>(g.weight(i));
                }
    }
    return w;
}

DecomposedLayer decompose_layer(const std::vector<std::int8_t>& w, const LayerShape& shape, int n, Variant variant,
                                double alpha) {
    check_n(n);
    return decompose_layer(w, shape, std::vector<int>(std::max(0, shape.filters), n), variant, alpha);
}

DecomposedLayer decompose_layer(const std::vector<std::int8_t>& w, const LayerShape& shape,
                                const std::vector<int>& filter_n, Variant variant, double alpha) {
    check_shape(w, shape);
    if (filter_n.size() != static_cast<std::size_t>(shape.filters))
        throw SwisError("swis: filter shift counts: expected " + std::to_string(shape.filters) + ", got " +
                        std::to_string(filter_n.size()));
    for (int n : filter_n) check_n(n);
    DecomposedLayer d;
    d.shape = shape;
    d.variant = variant;
    d.shifts = filter_n;
    const std::size_t per_filter = static_cast<std::size_t>(shape.groups_per_filter());
    d.groups.resize(per_filter * shape.filters);
    parallel_ranges(shape.filters, static_cast<std::int64_t>(per_filter) * shape.filters, [&](int first, int last) {
        for (int f = first; f < last; ++f) {
            DecomposeOptions opt;
            opt.n = filter_n[f];
            opt.variant = variant;
            opt.alpha = alpha;
            opt.group_size = shape.group_size;
            std::size_t gi = per_filter * f;
            for_each_group(w, shape, f, [&](const std::int8_t* g, int count) { d.groups[gi++] = decompose_group(g, count, opt); });
        }
    });
    return d;
}

bool window_group(const std::int8_t* w, int msb, int n, Group& g, int lanes) {
    g = Group{};
    if (msb < 0 || msb >= kShiftPositions || n < 0 || n > msb + 1 || lanes < 1 || lanes > kMaxGroupSize) return false;
    g.n = static_cast<std::uint8_t>(n);
    for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(msb - j);
    const unsigned window = ((1u << n) - 1) << (msb + 1 - n);
    bool fits = true;
    for (int i = 0; i < lanes; ++i) {
        const unsigned mag = static_cast<unsigned>(std::abs(int{w[i]}));
        if (w[i] < 0) g.sign |= static_cast<std::uint16_t>(1u << i);
        fits = fits && (mag & ~window) == 0;
        for (int j = 0; j < n; ++j)
            if (mag >> (msb - j) & 1u) g.mask[i] |= static_cast<std::uint8_t>(1u << j);
    }
    return fits;
}

DecomposedLayer exact_layer(const std::vector<std::int8_t>& w, const LayerShape& shape) {
    check_shape(w, shape);
    DecomposedLayer d;
    d.shape = shape;
    d.shifts.assign(static_cast<std::size_t>(std::max(0, shape.filters)), kShiftPositions);
    d.groups.reserve(static_cast<std::size_t>(shape.groups_per_filter()) * static_cast<std::size_t>(shape.filters));
    for (int f = 0; f < shape.filters; ++f)
        for_each_group(w, shape, f, [&](const std::int8_t* g, int count) {
            std::array<std::int8_t, kMaxGroupSize> lanes{};  // channels past the layer's are 0
            std::copy_n(g, count, lanes.begin());
            d.groups.emplace_back();
            window_group(lanes.data(), kMagnitudeBits, kShiftPositions, d.groups.back(), shape.group_size);  // every int8 fits
        });
    return d;
}

FilterCosts filter_costs(const std::vector<std::int8_t>& w, const LayerShape& shape, Variant variant, double alpha) {
    check_shape(w, shape);
    FilterCosts fc;
    fc.shape = shape;
    fc.variant = variant;
    fc.alpha = alpha;
    fc.err.assign(shape.filters, {});
    const SetOrder& o = set_order();
    const int M = shape.group_size;
    const bool integral = integral_alpha(alpha, M);
    parallel_ranges(shape.filters, static_cast<std::int64_t>(shape.groups_per_filter()) * shape.filters,
                    [&](int first, int last) {
                        GroupCosts e;
                        for (int f = first; f < last; ++f) {
                            auto& err = fc.err[f];
                            err.fill(0.0);
                            for_each_group(w, shape, f, [&](const std::int8_t* g, int count) {
                                group_costs(g, count, alpha, M, e);
                                if (variant == Variant::kSwis && integral) {
                                    for (int n = 1; n <= kShiftPositions; ++n) {
                                        std::int32_t best = std::numeric_limits<std::int32_t>::max();
                                        for (int c = o.first[n]; c < o.first[n + 1]; ++c) best = std::min(best, e.icost[c]);
                                        err[n] += static_cast<double>(best) / M;
                                    }
                                    return;
                                }
                                for (int n = 1; n <= kShiftPositions; ++n) {
                                    double best = kInf;
                                    if (variant == Variant::kSwisC) {
                                        for (int c : o.consecutive[n]) best = std::min(best, e.at(c));
                                    } else {
                                        for (int c = o.first[n]; c < o.first[n + 1]; ++c) best = std::min(best, e.at(c));
                                    }
                                    err[n] += best / M;
                                }
                            });
                        }
                    });
    return fc;
}

void scale_costs(FilterCosts& costs, const std::vector<double>& filter_scale) {
    if (filter_scale.size() != costs.err.size())
        throw SwisError("swis: filter scales: expected " + std::to_string(costs.err.size()) + ", got " +
                        std::to_string(filter_scale.size()));
    for (std::size_t f = 0; f < costs.err.size(); ++f) {
        const double s = filter_scale[f];
        if (!(s >= 0) || !std::isfinite(s))
            throw SwisError("swis: filter scale " + std::to_string(f) + ": expected a finite number >= 0");
        for (double& e : costs.err[f]) e *= s * s;
    }
}

Schedule schedule_from_costs(const FilterCosts& costs, double target, int array_cols, int shifts_per_cycle) {
    const int F = static_cast<int>(costs.err.size());
    if (F < 1) throw SwisError("swis: schedule: expected at least one filter");
    if (array_cols < 1) throw SwisError("swis: schedule: array columns: expected >= 1, got " + std::to_string(array_cols));
    if (shifts_per_cycle != 1 && shifts_per_cycle != 2)
        throw SwisError("swis: schedule: shifts per cycle: expected 1 (SS) or 2 (DS), got " +
                        std::to_string(shifts_per_cycle));
    const int step = shifts_per_cycle;
    const int n_min = step;
    constexpr double kEps = 1e-9;
    if (!(target >= n_min - kEps && target <= kShiftPositions + kEps))
        throw SwisError("swis: schedule: target mean shift count: expected " + std::to_string(n_min) + "..8 for " +
                        (step == 1 ? "single" : "double") + "-shift PEs, got " + std::to_string(target));
    std::vector<int> allowed;
    for (int n = n_min; n <= kShiftPositions; n += step) allowed.push_back(n);
    const std::int64_t budget = static_cast<std::int64_t>(std::floor(target * F + kEps));
    const auto& err = costs.err;

    // Phase 1: every filter above T, then the cheapest steps down until sum N <= budget.
    int n0 = kShiftPositions;
    for (int n : allowed)
        if (n > target + kEps) {
            n0 = n;
            break;
        }
    std::vector<int> fn(F, n0);
    auto down_cost = [&](int f) { return fn[f] - step >= n_min ? err[f][fn[f] - step] - err[f][fn[f]] : kInf; };
    using Item = std::pair<double, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
    for (int f = 0; f < F; ++f)
        if (fn[f] - step >= n_min) queue.emplace(down_cost(f), f);
    std::int64_t total = static_cast<std::int64_t>(n0) * F;
    while (total > budget && !queue.empty()) {
        const int f = queue.top().second;
        queue.pop();
        fn[f] -= step;
        total -= step;
        if (fn[f] - step >= n_min) queue.emplace(down_cost(f), f);
    }
    Schedule s;
    s.order.resize(F);
    for (int f = 0; f < F; ++f) s.order[f] = f;
    std::vector<double> next_down(F);
    for (int f = 0; f < F; ++f) next_down[f] = down_cost(f);
    std::sort(s.order.begin(), s.order.end(), [&](int a, int b) {
        return std::make_tuple(fn[a], next_down[a], a) < std::make_tuple(fn[b], next_down[b], b);
    });

    // Phase 2: one N per array group, nondecreasing, the largest total <= budget, then the least error.
    const int cols = array_cols;
    const int full = F / cols, ragged = F % cols;
    const int A = static_cast<int>(allowed.size());
    auto group_err = [&](int g, int size, int n) {
        double e = 0;
        for (int i = 0; i < size; ++i) e += err[s.order[static_cast<std::size_t>(g) * cols + i]][n];
        return e;
    };
    // Units U = sum of the full groups' N; their total is cols * U.
    const std::int64_t umax = std::min<std::int64_t>(static_cast<std::int64_t>(kShiftPositions) * full, budget / cols);
    const int U = static_cast<int>(umax) + 1;
    std::vector<double> dp(static_cast<std::size_t>(U) * A, kInf), next(dp.size());
    std::vector<std::int8_t> back(static_cast<std::size_t>(full) * U * A, -1);  // the previous group's choice
    auto at = [A](int u, int k) { return static_cast<std::size_t>(u) * A + k; };
    // Before any group: U = 0, "last N" below everything (k = 0 admits every choice).
    dp[at(0, 0)] = 0;
    std::vector<double> gerr(A);
    for (int g = 0; g < full; ++g) {
        for (int k = 0; k < A; ++k) gerr[k] = group_err(g, cols, allowed[k]);
        std::fill(next.begin(), next.end(), kInf);
        for (int u = 0; u < U; ++u) {
            double pm = kInf;
            int pk = -1;
            for (int k = 0; k < A; ++k) {
                if (dp[at(u, k)] < pm) {
                    pm = dp[at(u, k)];
                    pk = k;
                }
                if (pk < 0) continue;
                const int nu = u + allowed[k];
                if (nu >= U) continue;
                const double c = pm + gerr[k];
                if (c < next[at(nu, k)]) {
                    next[at(nu, k)] = c;
                    back[(static_cast<std::size_t>(g) * U + nu) * A + k] = static_cast<std::int8_t>(pk);
                }
            }
        }
        dp.swap(next);
    }
    // Close with the ragged group (if any): the best (total, error) over the end states.
    std::int64_t best_total = -1;
    double best_err = kInf;
    int best_u = -1, best_k = -1, best_last = -1;
    for (int u = 0; u < U; ++u)
        for (int k = 0; k < A; ++k) {
            if (dp[at(u, k)] == kInf) continue;
            if (full > 0 && u == 0) continue;
            if (ragged == 0) {
                const std::int64_t t = static_cast<std::int64_t>(cols) * u;
                if (t <= budget && (t > best_total || (t == best_total && dp[at(u, k)] < best_err))) {
                    best_total = t;
                    best_err = dp[at(u, k)];
                    best_u = u;
                    best_k = k;
                }
            } else {
                for (int k2 = full > 0 ? k : 0; k2 < A; ++k2) {
                    const std::int64_t t = static_cast<std::int64_t>(cols) * u + static_cast<std::int64_t>(ragged) * allowed[k2];
                    if (t > budget) break;
                    const double e = dp[at(u, k)] + group_err(full, ragged, allowed[k2]);
                    if (t > best_total || (t == best_total && e < best_err)) {
                        best_total = t;
                        best_err = e;
                        best_u = u;
                        best_k = k;
                        best_last = k2;
                    }
                }
            }
        }
    if (best_total < 0)
        throw SwisError("swis: schedule: no assignment of N to the array groups reaches a mean <= " +
                        std::to_string(target));
    s.group_n.assign(full + (ragged ? 1 : 0), 0);
    int u = best_u, k = best_k;
    for (int g = full - 1; g >= 0; --g) {
        s.group_n[g] = allowed[k];
        const int pk = back[(static_cast<std::size_t>(g) * U + u) * A + k];
        u -= allowed[k];
        k = pk;
    }
    if (ragged) s.group_n[full] = allowed[best_last];
    s.filter_n.assign(F, 0);
    for (int i = 0; i < F; ++i) s.filter_n[s.order[i]] = s.group_n[i / cols];
    s.mean_n = static_cast<double>(best_total) / F;
    s.error = 0;
    for (int f = 0; f < F; ++f) s.error += err[f][s.filter_n[f]];
    return s;
}

Schedule schedule_filters(const std::vector<std::int8_t>& w, const LayerShape& shape, double target, int array_cols,
                          Variant variant, double alpha, int shifts_per_cycle) {
    const FilterCosts costs = filter_costs(w, shape, variant, alpha);
    Schedule s = schedule_from_costs(costs, target, array_cols, shifts_per_cycle);
    s.layer = decompose_layer(w, shape, s.filter_n, variant, alpha);
    return s;
}

int group_storage_bits(int n, Variant variant, int group_size) {
    check_n(n);
    check_group_size(group_size);
    const int M = group_size;
    return variant == Variant::kSwisC ? M + kShiftBits + M * n : M + kShiftBits * n + M * n;
}

std::int64_t layer_storage_bits(const DecomposedLayer& layer) {
    std::int64_t bits = 0;
    for (const Group& g : layer.groups) bits += group_storage_bits(g.n, layer.variant, layer.shape.group_size);
    return bits;
}

}  // namespace cimvp::swis
