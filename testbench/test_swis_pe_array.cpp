// The SWIS PE and the SWIS PE array. The PE in every form gives the exact
// decomposed dot product in N (SS) or ceil(N / 2) (DS) cycles; the array on the
// platform, driven by command lists through the controller, equals the plain
// integer product with the decomposed (or truncated) weights bit for bit in
// every mode, takes exactly the schedule formula's compute cycles (the same
// number as the analytic model, sw/contract/swis_perf.h), streams layers larger than
// its buffers, ends bad descriptors in STATUS.ERROR and controller error 7,
// and charges energy by busy PE cycles. Each TEST elaborates its own platform
// and runs in its own process (ctest).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <ostream>
#include <random>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/controller.h"
#include "hw/platform.h"
#include "hw/swis_pe.h"
#include "hw/swis_pe_array.h"
#include "rtl/rtl_swis_pe.h"
#include "hw/arch_config.h"
#include "sw/driver/driver.h"
#include "sw/driver/host_cpu.h"
#include "sw/contract/im2col.h"
#include "sw/contract/swis.h"
#include "sw/contract/swis_perf.h"
#include "testbench/platform_bench.h"
#include "testbench/sc_test_support.h"

namespace {

using namespace cimvp;
using swis::Group;
using swis::Variant;
namespace preg = pe_regs;

constexpr std::uint64_t kMiB = 1024 * 1024;
// Between the end of DRAM and the MMIO blocks: nothing is mapped there.
constexpr std::uint64_t kHole = 0x3000'0000;
constexpr int kLanes = SwisPe::kLanes;

// ---------------------------------------------------------------- one PE

Group random_group(std::mt19937& rng, int n, Variant v) {
    Group g;
    g.n = static_cast<std::uint8_t>(n);
    if (v == Variant::kSwisC) {
        const int o = std::uniform_int_distribution<int>(0, 8 - n)(rng);
        for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(o + n - 1 - j);
    } else {
        std::vector<int> pos = {0, 1, 2, 3, 4, 5, 6, 7};
        std::shuffle(pos.begin(), pos.end(), rng);
        std::sort(pos.begin(), pos.begin() + n, std::greater<int>());
        for (int j = 0; j < n; ++j) g.shift[j] = static_cast<std::uint8_t>(pos[j]);
    }
    std::uniform_int_distribution<int> byte(0, 255);
    g.sign = static_cast<std::uint8_t>(byte(rng) & 0x0F);
    for (int i = 0; i < kLanes; ++i) g.mask[i] = static_cast<std::uint8_t>(byte(rng) & ((1 << n) - 1));
    return g;
}

std::array<std::uint8_t, kLanes> random_activations(std::mt19937& rng) {
    std::array<std::uint8_t, kLanes> a{};
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& v : a) v = static_cast<std::uint8_t>(byte(rng));
    a[0] = 255;  // the widest lane every time
    return a;
}

// Steps one group to its end; returns the calls it took.
int step_group(SwisPe& pe, const std::uint8_t* a, const Group& g) {
    int calls = 0;
    for (bool done = false; !done; ++calls) {
        done = pe.step(a, g);
        if (calls > 16) return -1;
    }
    return calls;
}

void expect_shift_pe_exact(PeMode mode) {
    std::mt19937 rng(static_cast<unsigned>(mode) + 11);
    for (Variant v : {Variant::kSwis, Variant::kSwisC}) {
        for (int n = 0; n <= 8; ++n) {
            SCOPED_TRACE("n = " + std::to_string(n));
            const int want_cycles = mode == PeMode::kDoubleShift ? (n + 1) / 2 : n;
            SwisPe chain(mode);  // accumulates a run of groups without clearing
            std::int64_t chain_sum = 0;
            for (int trial = 0; trial < 200; ++trial) {
                const Group g = random_group(rng, n, v);
                const auto a = random_activations(rng);
                std::int64_t want = 0;
                for (int i = 0; i < kLanes; ++i) want += std::int64_t{a[i]} * g.weight(i);
                SwisPe pe(mode);
                ASSERT_EQ(pe.cycles(g), want_cycles);
                ASSERT_EQ(step_group(pe, a.data(), g), std::max(1, want_cycles)) << "a 0-cycle group ends at once";
                ASSERT_EQ(pe.acc(), want);
                ASSERT_EQ(pe.phase(), 0);
                ASSERT_EQ(chain.run_group(a.data(), g), want_cycles);
                chain_sum += want;
            }
            EXPECT_EQ(chain.acc(), chain_sum);
            chain.clear();
            EXPECT_EQ(chain.acc(), 0);
        }
    }
}

TEST(SwisPe, SingleShiftGivesTheDecomposedDotProductInNCycles) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    expect_shift_pe_exact(PeMode::kSingleShift);
}

TEST(SwisPe, DoubleShiftGivesTheDecomposedDotProductInHalfTheCycles) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    expect_shift_pe_exact(PeMode::kDoubleShift);
}

TEST(SwisPe, MidGroupStateAdvancesOneShiftPerCycle) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Group g;  // weight 0 = 2^6 + 2^1 + 2^0 over shifts {6, 1, 0}
    g.n = 3;
    g.shift = {6, 1, 0};
    g.mask = {0b111, 0, 0, 0};
    const std::uint8_t a[kLanes] = {3, 0, 0, 0};
    SwisPe ss(PeMode::kSingleShift);
    EXPECT_FALSE(ss.step(a, g));
    EXPECT_EQ(ss.acc(), 3 * 64);
    EXPECT_FALSE(ss.step(a, g));
    EXPECT_EQ(ss.acc(), 3 * 66);
    EXPECT_TRUE(ss.step(a, g));
    EXPECT_EQ(ss.acc(), 3 * 67);
    SwisPe ds(PeMode::kDoubleShift);
    EXPECT_FALSE(ds.step(a, g));
    EXPECT_EQ(ds.acc(), 3 * 66);
    EXPECT_TRUE(ds.step(a, g));
    EXPECT_EQ(ds.acc(), 3 * 67);
}

TEST(SwisPe, BaselinesActWgtAndFixedPoint) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> i8(-128, 127);
    for (int trial = 0; trial < 500; ++trial) {
        std::int8_t w[kLanes];
        for (auto& v : w) v = static_cast<std::int8_t>(i8(rng));
        if (trial == 0) w[1] = -128;
        const auto a = random_activations(rng);
        Group g;
        ASSERT_TRUE(int8_group(w, 7, 8, g)) << "every int8 fits the full window";
        for (int i = 0; i < kLanes; ++i) ASSERT_EQ(g.weight(i), w[i]);

        SwisPe fxp(PeMode::kFixedPoint);
        std::int64_t exact = 0;
        for (int i = 0; i < kLanes; ++i) exact += std::int64_t{a[i]} * w[i];
        EXPECT_EQ(fxp.run_group(a.data(), g), 1);
        EXPECT_EQ(fxp.acc(), exact);

        // Act: the top `bits` activation bits, MSB first, one per cycle.
        for (int bits = 0; bits <= 8; ++bits) {
            SwisPe act(PeMode::kActSerial, bits);
            std::int64_t want = 0;
            for (int i = 0; i < kLanes; ++i) want += std::int64_t{(a[i] >> (8 - bits)) << (8 - bits)} * w[i];
            EXPECT_EQ(step_group(act, a.data(), g), std::max(1, bits));
            EXPECT_EQ(act.acc(), want) << "bits " << bits;
        }

        // Wgt: weights whose magnitudes live in the window [msb - n + 1, msb].
        const int msb = std::uniform_int_distribution<int>(0, 7)(rng);
        const int n = std::uniform_int_distribution<int>(1, msb + 1)(rng);
        const int window = ((1 << n) - 1) << (msb + 1 - n);
        std::int8_t tw[kLanes];
        for (int i = 0; i < kLanes; ++i) {
            const int mag = std::min(std::abs(int{w[i]}) & window, 127);
            tw[i] = static_cast<std::int8_t>(w[i] < 0 ? -mag : mag);
        }
        Group wg;
        if (!int8_group(tw, msb, n, wg)) continue;  // 127-clipping left a bit outside: not a window weight
        SwisPe wgt(PeMode::kWgtSerial);
        std::int64_t want = 0;
        for (int i = 0; i < kLanes; ++i) want += std::int64_t{a[i]} * tw[i];
        EXPECT_EQ(wgt.run_group(a.data(), wg), n);
        EXPECT_EQ(wgt.acc(), want);
    }
    const std::int8_t outside[kLanes] = {1, 0, 0, 0};
    Group g;
    EXPECT_FALSE(int8_group(outside, 7, 4, g)) << "bit 0 is not in the window 7..4";
    EXPECT_FALSE(int8_group(outside, 2, 4, g)) << "a window below bit 0";
}

TEST(SwisPe, RecordsRoundTripAndRejectWhatIsNotAGroup) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    std::mt19937 rng(9);
    for (int n = 0; n <= 8; ++n) {
        for (int trial = 0; trial < 50; ++trial) {
            const Group g = random_group(rng, n, trial % 2 ? Variant::kSwisC : Variant::kSwis);
            const SwisRecord r = pack_swis_record(g);
            Group back;
            ASSERT_TRUE(unpack_swis_record(r.data(), back));
            EXPECT_EQ(back.n, g.n);
            EXPECT_EQ(back.sign, g.sign);
            EXPECT_EQ(back.mask, g.mask);
            for (int j = 0; j < n; ++j) EXPECT_EQ(back.shift[j], g.shift[j]);
        }
    }
    SwisRecord r{};
    Group g;
    r[0] = 9;  // n = 9
    EXPECT_FALSE(unpack_swis_record(r.data(), g));
    r[0] = 2;
    r[3] = 0b100;  // mask bit 2 with n = 2
    EXPECT_FALSE(unpack_swis_record(r.data(), g));
}

// ---------------------------------------------------------------- the array on the platform

ArchConfig pe_config() {
    ArchConfig cfg;
    cfg.platform.tiles = 1;
    cfg.platform.dram.size_bytes = 16 * kMiB;
    return cfg;
}

using cimvp::test::PlatformBench;

// A matrix layer: V activation vectors of K bytes, M filters of int8 weights [M][K].
struct Layer {
    int V = 0, M = 0, C = 0, kh = 1, kw = 1;
    std::vector<std::uint8_t> x;  // [V][K]
    std::vector<std::int8_t> w;   // [M][K]
    int K() const { return C * kh * kw; }
    int G() const { return (C + kLanes - 1) / kLanes * kh * kw; }
    swis::LayerShape shape() const {
        swis::LayerShape s;
        s.filters = M;
        s.channels = C;
        s.kernel_h = kh;
        s.kernel_w = kw;
        return s;
    }
};

std::vector<std::int8_t> random_weights(std::mt19937& rng, std::size_t n) {
    std::vector<std::int8_t> w(n);
    std::uniform_int_distribution<int> i8(-128, 127);
    for (auto& v : w) v = static_cast<std::int8_t>(i8(rng));
    if (!w.empty()) w[0] = -128;
    return w;
}

// A convolution through im2col of a random C x H x W image.
Layer conv_layer(unsigned seed, int C, int H, int W, int k, int stride, int pad, int M) {
    std::mt19937 rng(seed);
    ConvShape s;
    s.channels = C;
    s.height = H;
    s.width = W;
    s.kernel = k;
    s.stride = stride;
    s.padding = pad;
    std::vector<std::uint8_t> image(static_cast<std::size_t>(C) * H * W);
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& v : image) v = static_cast<std::uint8_t>(byte(rng));
    Layer L;
    L.V = s.out_height() * s.out_width();
    L.M = M;
    L.C = C;
    L.kh = L.kw = k;
    L.x = im2col(s, image.data());
    L.w = random_weights(rng, static_cast<std::size_t>(M) * L.K());
    return L;
}

// A fully connected layer on a batch of V vectors: K = C inputs, a 1 x 1 kernel.
Layer fc_layer(unsigned seed, int V, int K, int M) {
    std::mt19937 rng(seed);
    Layer L;
    L.V = V;
    L.M = M;
    L.C = K;
    L.x.resize(static_cast<std::size_t>(V) * K);
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& v : L.x) v = static_cast<std::uint8_t>(byte(rng));
    L.w = random_weights(rng, static_cast<std::size_t>(M) * K);
    return L;
}

// What one job gets: its records and N table, and what it must compute: out[v][f] =
// sum_k act(v, k, f) * weight[f][k] with the operands as the mode sees them.
struct Job {
    PeMode mode = PeMode::kSingleShift;
    std::uint8_t wgt_msb = 7;
    std::vector<std::uint8_t> records, tile_n;
    std::vector<int> weight;    // [M][K] as computed with
    std::vector<int> act_bits;  // per filter: Act keeps the top bits of every activation; else 8
};

int tiles(int M, int cols = 8) { return (M + cols - 1) / cols; }

std::vector<int> filter_n(const std::vector<std::uint8_t>& tile_n, int M, int cols = 8) {
    std::vector<int> n(static_cast<std::size_t>(M));
    for (int f = 0; f < M; ++f) n[static_cast<std::size_t>(f)] = tile_n[static_cast<std::size_t>(f / cols)];
    return n;
}

// SS / DS: the layer decomposed (sw/contract/swis.h) with each filter tile's N.
Job swis_job(const Layer& L, PeMode mode, Variant v, const std::vector<std::uint8_t>& tile_n, int cols = 8) {
    Job j;
    j.mode = mode;
    j.tile_n = tile_n;
    const swis::DecomposedLayer d = swis::decompose_layer(L.w, L.shape(), filter_n(tile_n, L.M, cols), v);
    for (const Group& g : d.groups) {
        const SwisRecord r = pack_swis_record(g);
        j.records.insert(j.records.end(), r.begin(), r.end());
    }
    const std::vector<std::int8_t> w = d.weights();
    j.weight.assign(w.begin(), w.end());
    j.act_bits.assign(static_cast<std::size_t>(L.M), 8);
    return j;
}

// Int8 records [filter][ky][kx][channel group] of a [M][K] weight matrix.
std::vector<std::uint8_t> int8_records(const Layer& L, const std::vector<std::int8_t>& w) {
    std::vector<std::uint8_t> out;
    const int khw = L.kh * L.kw;
    for (int f = 0; f < L.M; ++f)
        for (int pos = 0; pos < khw; ++pos)
            for (int cg = 0; cg * kLanes < L.C; ++cg)
                for (int i = 0; i < kLanes; ++i) {
                    const int c = cg * kLanes + i;
                    out.push_back(
                        c < L.C ? static_cast<std::uint8_t>(w[static_cast<std::size_t>(f) * L.K() + c * khw + pos])
                                : 0);
                }
    return out;
}

// Act (activation bits = tile N), Wgt (weights truncated to the tile's N bits) or FXP.
Job int8_job(const Layer& L, PeMode mode, const std::vector<std::uint8_t>& tile_n, int cols = 8) {
    Job j;
    j.mode = mode;
    j.tile_n = tile_n;
    std::vector<std::int8_t> w = L.w;
    j.act_bits.assign(static_cast<std::size_t>(L.M), 8);
    const std::vector<int> fn = filter_n(tile_n, L.M, cols);
    if (mode == PeMode::kActSerial) {
        j.act_bits = fn;
    } else if (mode == PeMode::kWgtSerial) {
        // Each filter truncated with its own tile's bits; the window's top is the layer's top bit.
        int top = 0;
        for (std::int8_t v : L.w) top = std::max(top, std::min(127, std::abs(int{v})));
        j.wgt_msb = static_cast<std::uint8_t>(31 - __builtin_clz(static_cast<unsigned>(top)));
        for (int f = 0; f < L.M; ++f) {
            const std::vector<std::int8_t> t = swis::truncate_weights(L.w, fn[static_cast<std::size_t>(f)]);
            std::copy_n(t.begin() + static_cast<std::ptrdiff_t>(f) * L.K(), L.K(),
                        w.begin() + static_cast<std::ptrdiff_t>(f) * L.K());
        }
    }
    j.records = int8_records(L, w);
    j.weight.assign(w.begin(), w.end());
    return j;
}

std::vector<std::int64_t> reference(const Layer& L, const Job& j) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(L.V) * L.M);
    const int K = L.K();
    for (int f = 0; f < L.M; ++f) {
        const int drop = 8 - j.act_bits[static_cast<std::size_t>(f)];
        const int* w = j.weight.data() + static_cast<std::size_t>(f) * K;
        for (int v = 0; v < L.V; ++v) {
            const std::uint8_t* x = L.x.data() + static_cast<std::size_t>(v) * K;
            std::int64_t s = 0;
            for (int k = 0; k < K; ++k) s += std::int64_t{(x[k] >> drop) << drop} * w[k];
            out[static_cast<std::size_t>(v) * L.M + f] = s;
        }
    }
    return out;
}

// The schedule formula, written out here on its own.
std::uint64_t formula_cycles(const Layer& L, const Job& j, int rows = 8, int cols = 8) {
    std::uint64_t total = 0;
    for (int p0 = 0; p0 < L.V; p0 += rows)
        for (int t = 0; t * cols < L.M; ++t) {
            const int n = j.tile_n[static_cast<std::size_t>(t)];
            int cpg = n;
            if (j.mode == PeMode::kDoubleShift) cpg = (n + 1) / 2;
            if (j.mode == PeMode::kFixedPoint) cpg = 1;
            total += static_cast<std::uint64_t>(L.G()) * cpg + static_cast<std::uint64_t>(rows + cols - 2);
        }
    return total;
}

// The same from the analytic model (it takes N 1..8), for the job's PE form.
std::uint64_t perf_model_cycles(const Layer& L, const Job& j, int rows = 8, int cols = 8) {
    const std::vector<int> tn(j.tile_n.begin(), j.tile_n.end());
    return swis::compute_cycles(L.shape(), L.V, tn, j.mode, rows, cols);
}

struct Outcome {
    std::vector<std::int64_t> out;
    std::uint64_t compute_cycles = 0, transfer_cycles = 0;
    std::uint32_t status = 0, error = 0, mode = 0;
    CommandListStats stats;
    double wall_s = 0, cpu_s = 0;  // the command list, host and simulation
};

std::uint64_t read64(Driver& d, std::uint64_t lo) { return d.read32(lo) | std::uint64_t{d.read32(lo + 4)} << 32; }

PeArrayDescriptor descriptor_for(const Layer& L, const Job& j) {
    PeArrayDescriptor desc;
    desc.vectors = static_cast<std::uint32_t>(L.V);
    desc.filters = static_cast<std::uint32_t>(L.M);
    desc.channels = static_cast<std::uint16_t>(L.C);
    desc.kernel_h = static_cast<std::uint8_t>(L.kh);
    desc.kernel_w = static_cast<std::uint8_t>(L.kw);
    desc.mode = static_cast<std::uint8_t>(j.mode);
    desc.wgt_msb = j.wgt_msb;
    return desc;
}

// Loads operands and descriptor into DRAM, runs [kFence, kPeRun, kEnd] through the
// controller, reads the results back. `edit` may change the descriptor after the
// addresses are filled in; `relocate` may move it (what fits in DRAM is written
// there). Throws DriverError when the list fails.
Outcome run_job(Driver& d, const Layer& L, const Job& j, const std::function<void(PeArrayDescriptor&)>& edit = {},
                const std::function<std::uint64_t(std::uint64_t)>& relocate = {}) {
    const Driver::Mark mark = d.mark();
    PeArrayDescriptor desc = descriptor_for(L, j);
    desc.act = d.alloc(L.x.size());
    desc.weights = d.alloc(std::max<std::size_t>(j.records.size(), 1));
    desc.out = d.alloc(static_cast<std::uint64_t>(L.V) * L.M * sizeof(std::int64_t));
    const std::uint64_t at = d.alloc(sizeof desc + j.tile_n.size());
    d.write(desc.act, L.x.data(), L.x.size());
    if (!j.records.empty()) d.write(desc.weights, j.records.data(), j.records.size());
    if (edit) edit(desc);
    const std::uint64_t run_at = relocate ? relocate(at) : at;
    const std::uint64_t dram = d.address_map().dram_size();
    std::vector<std::uint8_t> bytes(sizeof desc);
    std::memcpy(bytes.data(), &desc, sizeof desc);
    bytes.insert(bytes.end(), j.tile_n.begin(), j.tile_n.end());
    if (run_at < dram) d.write(run_at, bytes.data(), std::min<std::uint64_t>(bytes.size(), dram - run_at));
    Outcome o;
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    try {
        o.stats = d.run_commands({make_fence(), make_pe_run(run_at), Command{}});
    } catch (...) {
        d.release(mark);
        throw;
    }
    o.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    o.cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    o.out.resize(static_cast<std::size_t>(L.V) * L.M);
    d.read(desc.out, o.out.data(), o.out.size() * sizeof(std::int64_t));
    o.compute_cycles = read64(d, kPeArrayBase + preg::kComputeCyclesLo);
    o.transfer_cycles = read64(d, kPeArrayBase + preg::kTransferCyclesLo);
    o.status = d.read32(kPeArrayBase + preg::kStatus);
    o.error = d.read32(kPeArrayBase + preg::kError);
    o.mode = d.read32(kPeArrayBase + preg::kMode);
    d.release(mark);
    return o;
}

void expect_job_right(Driver& d, const Layer& L, const Job& j, const std::string& what) {
    SCOPED_TRACE(what);
    const Outcome o = run_job(d, L, j);
    EXPECT_EQ(o.status, preg::kStatusDone);
    EXPECT_EQ(o.mode, static_cast<std::uint32_t>(j.mode));
    EXPECT_EQ(o.out, reference(L, j));
    EXPECT_EQ(o.compute_cycles, formula_cycles(L, j));
    EXPECT_EQ(o.compute_cycles, perf_model_cycles(L, j));
    EXPECT_GT(o.transfer_cycles, 0u);
    EXPECT_GE(o.stats.cycles, o.compute_cycles + o.transfer_cycles);
}

void expect_every_mode_right(const Layer& L) {
    const int t = tiles(L.M);
    std::vector<std::uint8_t> mixed(static_cast<std::size_t>(t));
    for (int i = 0; i < t; ++i) mixed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(1 + (3 * i + 2) % 8);
    std::vector<std::uint8_t> even(static_cast<std::size_t>(t));
    for (int i = 0; i < t; ++i) even[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(2 + 2 * (i % 4));
    const std::vector<std::uint8_t> full(static_cast<std::size_t>(t), 8);
    PlatformBench b(pe_config());
    b.run([&](HostCpu&, Driver& d) {
        expect_job_right(d, L, swis_job(L, PeMode::kSingleShift, Variant::kSwis, mixed), "SS");
        expect_job_right(d, L, swis_job(L, PeMode::kDoubleShift, Variant::kSwis, even), "DS");
        expect_job_right(d, L, swis_job(L, PeMode::kDoubleShift, Variant::kSwis, mixed), "DS odd N");
        expect_job_right(d, L, swis_job(L, PeMode::kSingleShift, Variant::kSwisC, mixed), "C-SS");
        expect_job_right(d, L, swis_job(L, PeMode::kDoubleShift, Variant::kSwisC, even), "C-DS");
        expect_job_right(d, L, int8_job(L, PeMode::kActSerial, mixed), "Act");
        expect_job_right(d, L, int8_job(L, PeMode::kWgtSerial, std::vector<std::uint8_t>(mixed.size(), 3)), "Wgt");
        expect_job_right(d, L, int8_job(L, PeMode::kFixedPoint, full), "FXP");
        // N = 8 reproduces int8 exactly: SS then equals FXP (but for -128, which SWIS takes as -127).
        const Job ss8 = swis_job(L, PeMode::kSingleShift, Variant::kSwis, full);
        std::vector<std::int8_t> clipped = L.w;
        for (auto& v : clipped) v = std::max<std::int8_t>(v, -127);
        EXPECT_EQ(std::vector<int>(clipped.begin(), clipped.end()), ss8.weight);
    });
}

// A datapath one too high on every output: the array must count each one and write it out.
struct OffByOneDatapath : SwisPeDatapath {
    bool supports(PeMode m) const override { return m == PeMode::kSingleShift; }
    std::int64_t run_output(PeMode mode, int, const std::uint8_t* act, const swis::Group* groups,
                            std::size_t count) override {
        SwisPe pe(mode);
        for (std::size_t k = 0; k < count; ++k) pe.run_group(act + k * kLanes, groups[k]);
        return pe.acc() + 1;
    }
};

TEST(SwisPeArray, RtlPeStandsInForEveryOutputAndAWrongDatapathIsCaught) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const Layer L = conv_layer(3, 10, 5, 4, 3, 1, 1, 13);  // ragged channel group, pixel and filter tiles
    const int t = tiles(L.M);
    std::vector<std::uint8_t> mixed(static_cast<std::size_t>(t));
    for (int i = 0; i < t; ++i) mixed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(3 + 4 * i);  // 3, 7
    const auto outputs = static_cast<std::uint64_t>(L.V) * static_cast<std::uint64_t>(L.M);
    RtlSwisPe ss(PeMode::kSingleShift), ds(PeMode::kDoubleShift);
    OffByOneDatapath wrong;
    PlatformBench b(pe_config());
    SwisPeArray& array = b.platform.pe_array;
    b.run([&](HostCpu&, Driver& d) {
        for (RtlSwisPe* rtl : {&ss, &ds}) {
            array.set_datapath(rtl);
            const auto before = array.counters();
            const std::uint64_t c0 = rtl->cycles();
            expect_job_right(d, L, swis_job(L, rtl->mode(), Variant::kSwis, mixed), pe_mode_name(rtl->mode()));
            const auto& after = array.counters();
            const auto m = static_cast<std::size_t>(rtl->mode());
            EXPECT_EQ(after.datapath_outputs - before.datapath_outputs, outputs);
            EXPECT_EQ(after.datapath_mismatches, before.datapath_mismatches);
            EXPECT_EQ(rtl->cycles() - c0, after.pe_cycles[m] - before.pe_cycles[m]) << "the clocks the array counts";
        }
        // A form without an RTL twin runs on the model and is counted as bypassed.
        const std::uint64_t bypassed = array.counters().datapath_bypassed_jobs;
        expect_job_right(d, L, int8_job(L, PeMode::kFixedPoint, std::vector<std::uint8_t>(mixed.size(), 8)), "FXP");
        EXPECT_EQ(array.counters().datapath_bypassed_jobs, bypassed + 1);

        array.set_datapath(&wrong);
        const std::uint64_t mismatches = array.counters().datapath_mismatches;
        const Job j = swis_job(L, PeMode::kSingleShift, Variant::kSwis, mixed);
        const Outcome o = run_job(d, L, j);
        std::vector<std::int64_t> want = reference(L, j);
        for (auto& v : want) ++v;
        EXPECT_EQ(o.out, want);
        EXPECT_EQ(array.counters().datapath_mismatches - mismatches, outputs);
        array.set_datapath(nullptr);
    });
}

TEST(SwisPeArray, ConvLayerEqualsTheIntegerProductInEveryMode) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    // 10 channels (ragged channel groups), 3 x 3, padding: 7 x 6 = 42 pixels (a ragged pixel
    // tile), 21 filters (a ragged filter tile).
    expect_every_mode_right(conv_layer(1, 10, 7, 6, 3, 1, 1, 21));
}

TEST(SwisPeArray, StridedConvLayerEqualsTheIntegerProductInEveryMode) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    expect_every_mode_right(conv_layer(2, 16, 11, 11, 5, 2, 0, 16));
}

TEST(SwisPeArray, FullyConnectedLayerEqualsTheIntegerProductInEveryMode) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    expect_every_mode_right(fc_layer(3, 3, 150, 10));
}

TEST(SwisPeArray, ComputeCyclesFollowTheScheduleFormula) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    struct Case {
        Layer L;
        PeMode mode;
        std::vector<std::uint8_t> tile_n;
    };
    const Layer conv = conv_layer(4, 12, 10, 10, 3, 1, 1, 40);  // 100 pixels, 5 filter tiles
    const Layer fc = fc_layer(5, 1, 64, 17);
    const std::vector<Case> cases = {
        {conv, PeMode::kSingleShift, {2, 2, 3, 3, 4}}, {conv, PeMode::kSingleShift, {1, 8, 1, 8, 5}},
        {conv, PeMode::kDoubleShift, {2, 2, 3, 4, 6}}, {conv, PeMode::kDoubleShift, {1, 3, 5, 7, 8}},
        {conv, PeMode::kActSerial, {6, 6, 7, 8, 4}},   {conv, PeMode::kWgtSerial, {2, 2, 4, 4, 4}},
        {conv, PeMode::kFixedPoint, {8, 8, 8, 8, 8}},  {fc, PeMode::kDoubleShift, {4, 2, 2}},
        {fc, PeMode::kSingleShift, {3, 3, 2}},
    };
    PlatformBench b(pe_config());
    b.run([&](HostCpu&, Driver& d) {
        for (const Case& c : cases) {
            const Job j = c.mode == PeMode::kSingleShift || c.mode == PeMode::kDoubleShift
                              ? swis_job(c.L, c.mode, Variant::kSwis, c.tile_n)
                              : int8_job(c.L, c.mode, c.tile_n);
            const Outcome o = run_job(d, c.L, j);
            EXPECT_EQ(o.compute_cycles, formula_cycles(c.L, j)) << pe_mode_name(c.mode);
            EXPECT_EQ(o.compute_cycles, perf_model_cycles(c.L, j)) << pe_mode_name(c.mode);
            EXPECT_EQ(o.out, reference(c.L, j)) << pe_mode_name(c.mode);
        }
        // Example from docs/registers.md: 100 pixels = 13 pixel tiles, G = 3 x 3 x 3 = 27,
        // SS at {2, 2, 3, 3, 4}: 13 x (27 x 14 + 5 x 14) = 5824.
        const Outcome o = run_job(d, conv, swis_job(conv, PeMode::kSingleShift, Variant::kSwis, {2, 2, 3, 3, 4}));
        EXPECT_EQ(o.compute_cycles, 5824u);
        // N = 0: groups of no shifts take no cycles, only the skew; the outputs are 0.
        Job zero;
        zero.mode = PeMode::kSingleShift;
        zero.tile_n = {0, 0, 0};
        zero.records.assign(static_cast<std::size_t>(fc.M) * fc.G() * kSwisRecordBytes, 0);
        zero.weight.assign(static_cast<std::size_t>(fc.M) * fc.K(), 0);
        zero.act_bits.assign(static_cast<std::size_t>(fc.M), 8);
        const Outcome z = run_job(d, fc, zero);
        EXPECT_EQ(z.compute_cycles, 3u * 14u);
        EXPECT_EQ(z.out, std::vector<std::int64_t>(static_cast<std::size_t>(fc.M), 0));
    });
}

TEST(SwisPeArray, OtherArrayShapesFollowTheFormulaToo) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = pe_config();
    cfg.pe_array.rows = 5;
    cfg.pe_array.cols = 3;
    const Layer L = conv_layer(6, 7, 6, 6, 3, 1, 1, 8);  // 36 pixels, 3 filter tiles of 3
    const std::vector<std::uint8_t> tn = {3, 1, 4};
    PlatformBench b(cfg);
    std::uint32_t geometry = 0;
    b.run([&](HostCpu&, Driver& d) {
        geometry = d.read32(kPeArrayBase + preg::kGeometry);
        for (PeMode m : {PeMode::kSingleShift, PeMode::kDoubleShift}) {
            const Job j = swis_job(L, m, Variant::kSwis, tn, 3);
            const Outcome o = run_job(d, L, j);
            EXPECT_EQ(o.out, reference(L, j));
            EXPECT_EQ(o.compute_cycles, formula_cycles(L, j, 5, 3));
            EXPECT_EQ(o.compute_cycles, perf_model_cycles(L, j, 5, 3));
        }
    });
    EXPECT_EQ(geometry, 5u | 3u << 16);
}

TEST(SwisPeArray, LayersLargerThanTheBuffersStreamThroughThemExactly) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    // 3 pixel tiles of activations, 2 filter tiles of weights, 1 pixel tile x 2 filter
    // tiles of accumulators at a time.
    ArchConfig cfg = pe_config();
    const Layer L = conv_layer(7, 8, 9, 9, 3, 1, 1, 37);  // 81 pixels, K = 72, G = 18
    cfg.pe_array.act_buffer_bytes = 3 * 8 * 72 + 50;
    cfg.pe_array.weight_buffer_bytes = 2 * 8 * 18 * kSwisRecordBytes + 7;
    cfg.pe_array.out_buffer_bytes = 2 * 8 * 8 * 8;
    const std::vector<std::uint8_t> tn = {3, 2, 2, 4, 1};
    PlatformBench b(cfg);
    b.run([&](HostCpu&, Driver& d) {
        for (PeMode m : {PeMode::kSingleShift, PeMode::kDoubleShift}) {
            const Job j = swis_job(L, m, Variant::kSwis, tn);
            const Outcome o = run_job(d, L, j);
            EXPECT_EQ(o.out, reference(L, j));
            EXPECT_EQ(o.compute_cycles, formula_cycles(L, j));
        }
        const Job fxp = int8_job(L, PeMode::kFixedPoint, tn);
        EXPECT_EQ(run_job(d, L, fxp).out, reference(L, fxp));
    });
    const auto& last = b.platform.pe_array.last_job();
    EXPECT_EQ(last.weight_passes, 3u);    // ceil(5 filter tiles / 2)
    EXPECT_EQ(last.act_passes, 3u * 4u);  // ceil(81 / 24) activation fills per weight pass
}

TEST(SwisPeArray, TransferTimeIsTheBurstsAtTheSlowerOfDramAndThePort) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const Layer L = fc_layer(8, 5, 40, 6);  // one tile: K = 40, G = 10
    const Job j = swis_job(L, PeMode::kDoubleShift, Variant::kSwis, {4});
    PlatformBench b(pe_config());
    Outcome o;
    b.run([&](HostCpu&, Driver& d) { o = run_job(d, L, j); });
    const MemoryConfig& dram = b.cfg.platform.dram;
    const auto burst = [&](double bytes) {
        return std::max(dram.latency_ns + bytes / dram.bytes_per_ns, bytes / b.cfg.pe_array.bytes_per_ns);
    };
    // Descriptor, N table, weights, activations, accumulators: one burst each.
    const double ns = burst(64) + burst(1) + burst(6 * 10 * 8) + burst(5 * 40) + burst(5 * 6 * 8);
    EXPECT_EQ(o.transfer_cycles, static_cast<std::uint64_t>(std::ceil(ns / b.cfg.digital.clock_ns - 1e-9)));
    EXPECT_NEAR(b.platform.pe_array.last_job().transfer_ns, ns, 0.01);  // SystemC time: 1 ps per burst
    EXPECT_EQ(o.compute_cycles, 10u * 2u + 14u);
}

// ---------------------------------------------------------------- bad descriptors

struct BadJob {
    std::string name;
    PeMode mode;
    std::function<void(Layer&, Job&)> make;        // change the operands
    std::function<void(PeArrayDescriptor&)> edit;  // change the descriptor in memory
    PeArrayError code;
    std::function<std::uint64_t(std::uint64_t)> descriptor_at;  // where kPeRun points (default: the descriptor)
};

std::vector<BadJob> bad_jobs() {
    const auto none = [](Layer&, Job&) {};
    const auto keep = [](PeArrayDescriptor&) {};
    return {
        {"ZeroVectors",
         PeMode::kSingleShift,
         none,
         [](PeArrayDescriptor& d) { d.vectors = 0; },
         PeArrayError::kBadDescriptor,
         {}},
        {"ZeroFilters",
         PeMode::kSingleShift,
         none,
         [](PeArrayDescriptor& d) { d.filters = 0; },
         PeArrayError::kBadDescriptor,
         {}},
        {"ZeroChannels",
         PeMode::kDoubleShift,
         none,
         [](PeArrayDescriptor& d) { d.channels = 0; },
         PeArrayError::kBadDescriptor,
         {}},
        {"ZeroKernel",
         PeMode::kFixedPoint,
         none,
         [](PeArrayDescriptor& d) { d.kernel_w = 0; },
         PeArrayError::kBadDescriptor,
         {}},
        {"UnknownMode",
         PeMode::kSingleShift,
         none,
         [](PeArrayDescriptor& d) { d.mode = 5; },
         PeArrayError::kBadDescriptor,
         {}},
        {"TileNAboveEight",
         PeMode::kActSerial,
         [](Layer&, Job& j) { j.tile_n[0] = 9; },
         keep,
         PeArrayError::kBadDescriptor,
         {}},
        {"WgtWindowBelowBitZero",
         PeMode::kWgtSerial,
         [](Layer&, Job& j) { j.tile_n[0] = 4; },
         [](PeArrayDescriptor& d) { d.wgt_msb = 2; },
         PeArrayError::kBadDescriptor,
         {}},
        {"WgtWindowAboveBitSeven",
         PeMode::kWgtSerial,
         none,
         [](PeArrayDescriptor& d) { d.wgt_msb = 8; },
         PeArrayError::kBadDescriptor,
         {}},
        {"OutputsWrapPastTheTopOfTheAddressSpace",
         PeMode::kSingleShift,
         none,
         [](PeArrayDescriptor& d) { d.out = ~std::uint64_t{0} - 64; },
         PeArrayError::kBadDescriptor,
         {}},
        {"ActivationTileOverflowsItsBuffer",
         PeMode::kFixedPoint,
         [](Layer& L, Job& j) {  // 8 vectors of 8200 bytes > 64 KiB
             L = fc_layer(20, 8, 8200, 2);
             j = int8_job(L, PeMode::kFixedPoint, {8});
         },
         keep,
         PeArrayError::kBufferOverflow,
         {}},
        {"WeightTileOverflowsItsBuffer",
         PeMode::kSingleShift,
         [](Layer& L, Job& j) {  // 8 filters x 1500 groups x 8 bytes > 64 KiB
             L = fc_layer(21, 2, 6000, 8);
             j = swis_job(L, PeMode::kSingleShift, Variant::kSwis, {1});
         },
         keep,
         PeArrayError::kBufferOverflow,
         {}},
        {"ActivationsUnmapped",
         PeMode::kSingleShift,
         none,
         [](PeArrayDescriptor& d) { d.act = kHole; },
         PeArrayError::kRead,
         {}},
        {"WeightsRunPastTheEndOfDram",
         PeMode::kDoubleShift,
         none,
         [](PeArrayDescriptor& d) { d.weights = 16 * kMiB - 16; },
         PeArrayError::kRead,
         {}},
        {"OutputsUnmapped",
         PeMode::kFixedPoint,
         none,
         [](PeArrayDescriptor& d) { d.out = kHole; },
         PeArrayError::kWrite,
         {}},
        {"DescriptorUnmapped", PeMode::kSingleShift, none, keep, PeArrayError::kDescriptorFetch,
         [](std::uint64_t) { return kHole; }},
        {"NTableRunsPastTheEndOfDram", PeMode::kSingleShift, none, keep, PeArrayError::kDescriptorFetch,
         [](std::uint64_t) { return 16 * kMiB - 64; }},
        {"RecordWithMoreShiftsThanItsTile",
         PeMode::kSingleShift,
         [](Layer&, Job& j) { j.records[0] = static_cast<std::uint8_t>((j.records[0] & 0xF0) | 4); },
         keep,
         PeArrayError::kWeightRange,
         {}},
        {"RecordWithAStrayMaskBit",
         PeMode::kDoubleShift,
         [](Layer&, Job& j) { j.records[1] |= 0x80; },
         keep,
         PeArrayError::kWeightRange,
         {}},
        {"WgtWeightOutsideItsWindow",
         PeMode::kWgtSerial,
         [](Layer&, Job& j) { j.records[0] = 1; },
         keep,
         PeArrayError::kWeightRange,
         {}},
    };
}

void PrintTo(const BadJob& b, std::ostream* os) { *os << b.name; }

class SwisPeArrayBadJob : public ::testing::TestWithParam<BadJob> {};

TEST_P(SwisPeArrayBadJob, EndsInErrorAndControllerErrorSevenThenRecovers) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const BadJob& bad = GetParam();
    // The array and the controller each report the failed job; a failed bus access also shows at the router.
    const bool bus = bad.code == PeArrayError::kDescriptorFetch || bad.code == PeArrayError::kRead ||
                     bad.code == PeArrayError::kWrite;
    const cimvp::test::ExpectScWarnings reports(
        {{SwisPeArray::kReportId, 1}, {Controller::kReportId, 1}, {tlmx::Router::kReportId, bus ? 1 : 0}});
    Layer L = fc_layer(10, 9, 20, 11);
    Job j = bad.mode == PeMode::kSingleShift || bad.mode == PeMode::kDoubleShift
                ? swis_job(L, bad.mode, Variant::kSwis, {3, 3})
                : int8_job(L, bad.mode, {4, 4});
    bad.make(L, j);
    const Layer good_layer = fc_layer(11, 9, 20, 11);
    const Job good = swis_job(good_layer, PeMode::kDoubleShift, Variant::kSwis, {2, 4});

    PlatformBench b(pe_config());
    std::string message;
    std::uint32_t status = 0, error = 0, ctrl_error = 0, ctrl_index = 0, jobs = 0;
    Outcome recovered;
    b.run([&](HostCpu&, Driver& d) {
        try {
            run_job(d, L, j, bad.edit, bad.descriptor_at);
        } catch (const DriverError& e) {
            message = e.what();
        }
        status = d.read32(kPeArrayBase + preg::kStatus);
        error = d.read32(kPeArrayBase + preg::kError);
        ctrl_error = d.read32(kControllerBase + controller_regs::kError);
        ctrl_index = d.read32(kControllerBase + controller_regs::kErrorIndex);
        recovered = run_job(d, good_layer, good);
        jobs = d.read32(kPeArrayBase + preg::kJobs);
    });
    EXPECT_NE(message.find("controller error 7 at command 1"), std::string::npos) << message;
    EXPECT_EQ(ctrl_error, static_cast<std::uint32_t>(ControllerError::kPeArray));
    EXPECT_EQ(ctrl_index, 1u);
    EXPECT_EQ(status, preg::kStatusError);
    EXPECT_EQ(error, static_cast<std::uint32_t>(bad.code));
    EXPECT_EQ(b.platform.pe_array.counters().errors, 1u);
    EXPECT_EQ(jobs, 2u);
    EXPECT_EQ(recovered.status, preg::kStatusDone);
    EXPECT_EQ(recovered.out, reference(good_layer, good));
}

INSTANTIATE_TEST_SUITE_P(Kinds, SwisPeArrayBadJob, ::testing::ValuesIn(bad_jobs()),
                         [](const ::testing::TestParamInfo<BadJob>& i) { return i.param.name; });

// ---------------------------------------------------------------- registers, window, energy

TEST(SwisPeArray, RegistersAndTheBufferWindow) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/pe_array", 2}, {"/cimvp/router", 1}});
    const Layer L = fc_layer(12, 6, 24, 7);  // one pixel tile, one filter tile
    const Job j = int8_job(L, PeMode::kFixedPoint, {8});
    PlatformBench b(pe_config());
    std::uint32_t id = 0, geometry = 0, jobs_before = 1, pe_lo = 0;
    tlm::tlm_response_status write_resp = tlm::TLM_OK_RESPONSE, straddle_resp = tlm::TLM_OK_RESPONSE,
                             past_end_resp = tlm::TLM_OK_RESPONSE;
    std::vector<std::int64_t> window(static_cast<std::size_t>(L.V) * L.M);
    std::vector<std::uint8_t> act_window(L.x.size());
    Outcome o;
    b.run([&](HostCpu& cpu, Driver& d) {
        id = d.read32(kPeArrayBase + preg::kId);
        geometry = d.read32(kPeArrayBase + preg::kGeometry);
        jobs_before = d.read32(kPeArrayBase + preg::kJobs);
        o = run_job(d, L, j);
        pe_lo = d.read32(kPeArrayBase + preg::kPeCyclesLo);
        const PeArrayWindows& w = b.platform.pe_array.windows();
        d.read(kPeArrayBufferBase + w.out, window.data(), window.size() * sizeof(std::int64_t));
        d.read(kPeArrayBufferBase + w.act, act_window.data(), act_window.size());
        std::uint32_t v = 1;
        write_resp = cpu.bus().write32(kPeArrayBufferBase + w.out, v);
        std::uint8_t two_words[8];
        straddle_resp = cpu.bus().read(kPeArrayBufferBase + w.weight - 4, two_words, 8);  // activations | weights
        past_end_resp = cpu.bus().read32(kPeArrayBufferBase + w.size, v);
    });
    EXPECT_EQ(id, preg::kIdValue);
    EXPECT_EQ(geometry, 8u | 8u << 16);
    EXPECT_EQ(jobs_before, 0u);
    EXPECT_EQ(o.out, reference(L, j));
    EXPECT_EQ(window, o.out) << "the output buffer holds the last (only) tile, [pixel][filter]";
    EXPECT_EQ(act_window, L.x);
    EXPECT_EQ(write_resp, tlm::TLM_COMMAND_ERROR_RESPONSE) << "the window is read-only";
    EXPECT_EQ(straddle_resp, tlm::TLM_ADDRESS_ERROR_RESPONSE) << "an access stays inside one buffer";
    EXPECT_EQ(past_end_resp, tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(pe_lo, static_cast<std::uint32_t>(L.V * L.M * L.G()));
    EXPECT_EQ(b.platform.pe_array.counters().macs, static_cast<std::uint64_t>(L.V) * L.M * L.K());
    b.platform.reset_counters();
    EXPECT_EQ(b.platform.pe_array.registers().get(preg::kPeCyclesLo), 0u);
    EXPECT_EQ(b.platform.pe_array.registers().get(preg::kJobs), 0u);
    EXPECT_EQ(b.platform.pe_array.registers().get(preg::kComputeCyclesLo), o.compute_cycles) << "the last job stays";
    EXPECT_EQ(b.platform.energy().pe, 0.0);
}

TEST(SwisPeArray, EnergyChargesBusyPeCyclesAtTheModesRate) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const Layer L = conv_layer(13, 8, 8, 8, 3, 1, 1, 16);
    const PeArrayConfig pc = pe_config().pe_array;
    struct Run {
        EnergyBreakdown e;
        std::uint64_t pe_cycles = 0, compute = 0;
    };
    std::vector<Run> runs;
    PlatformBench b(pe_config());
    const std::vector<Job> jobs = {swis_job(L, PeMode::kDoubleShift, Variant::kSwis, {2, 2}),
                                   swis_job(L, PeMode::kDoubleShift, Variant::kSwis, {4, 4}),
                                   swis_job(L, PeMode::kSingleShift, Variant::kSwis, {4, 4}),
                                   int8_job(L, PeMode::kActSerial, {6, 6}), int8_job(L, PeMode::kFixedPoint, {8, 8})};
    b.run([&](HostCpu&, Driver& d) {
        for (const Job& j : jobs) {
            b.platform.reset_counters();
            Run r;
            r.compute = run_job(d, L, j).compute_cycles;
            r.e = b.platform.energy();
            for (auto c : b.platform.pe_array.counters().pe_cycles) r.pe_cycles += c;
            runs.push_back(r);
        }
    });
    ASSERT_EQ(runs.size(), jobs.size());
    const double rate[] = {pc.pj_per_cycle_ds, pc.pj_per_cycle_ds, pc.pj_per_cycle_ss, pc.pj_per_cycle_bitserial,
                           pc.pj_per_cycle_fxp};
    for (std::size_t i = 0; i < runs.size(); ++i) {
        SCOPED_TRACE(pe_mode_name(jobs[i].mode));
        EXPECT_GT(runs[i].e.pe, 0.0);
        EXPECT_GT(runs[i].e.buffers, 0.0);
        EXPECT_GT(runs[i].e.dram, 0.0) << "the fills are bus reads of DRAM";
        EXPECT_DOUBLE_EQ(runs[i].e.pe, static_cast<double>(runs[i].pe_cycles) * rate[i]);
        EXPECT_EQ(runs[i].pe_cycles,
                  static_cast<std::uint64_t>(L.V) * L.M * L.G() *
                      static_cast<std::uint64_t>(pe_cycles_per_group(jobs[i].mode, jobs[i].tile_n[0])));
    }
    // DS at N = 4 takes twice the cycles of N = 2: twice the PE energy.
    EXPECT_DOUBLE_EQ(runs[1].e.pe, 2.0 * runs[0].e.pe);
    EXPECT_GT(runs[1].compute, runs[0].compute);
}

// ---------------------------------------------------------------- speed

// A ResNet-18-sized 3 x 3 convolution (64 -> 64 channels, 56 x 56, padding 1) on DS at
// N = 2 (the paper's operating point): exact, and how many array cycles a wall second simulates.
TEST(SwisPeArraySpeed, ResNet18Conv3x3) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const Layer L = conv_layer(14, 64, 56, 56, 3, 1, 1, 64);
    const Job j = swis_job(L, PeMode::kDoubleShift, Variant::kSwis, std::vector<std::uint8_t>(8, 2));
    PlatformBench b(pe_config());
    Outcome o;
    b.run([&](HostCpu&, Driver& d) { o = run_job(d, L, j); });
    EXPECT_EQ(o.out, reference(L, j));
    EXPECT_EQ(o.compute_cycles, formula_cycles(L, j));
    const double per_s = static_cast<double>(o.compute_cycles) / o.wall_s;
    std::cout << "[ speed    ] " << L.V << " pixels x " << L.M << " filters x K " << L.K() << ": " << o.compute_cycles
              << " array cycles (+" << o.transfer_cycles << " transfer), "
              << b.platform.pe_array.counters().pe_cycles[1] << " PE cycles in " << o.wall_s << " s wall (" << o.cpu_s
              << " s CPU): " << per_s << " array cycles/s wall, " << static_cast<double>(o.compute_cycles) / o.cpu_s
              << " per CPU second, " << static_cast<double>(b.platform.pe_array.counters().macs) / o.wall_s
              << " MAC/s wall\n";
    ::testing::Test::RecordProperty("array_cycles_per_second", std::to_string(per_s));
}

}  // namespace
