// Cross-check of the RTL twins as Verilated SystemC modules (Vsar_adc_sc,
// Vswis_pe_ss_sc, Vswis_pe_ds_sc) in a clocked SystemC bench: an sc_clock, a
// clocked driver thread on sc_signals, every result checked against the models
// (the numeric contract for the ADC, the SwisPe cycle model for the PE) and
// every latency counted in clock edges. One TEST per process.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vsar_adc_sc.h"
#include "Vswis_pe_ds_sc.h"
#include "Vswis_pe_ss_sc.h"
#include "hw/swis_pe.h"
#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_swis_pe.h"
#include "sw/contract/numerics.h"
#include "testbench/sc_test_support.h"
#include "verilated_vcd_sc.h"

namespace cimvp {
namespace {

constexpr int kRandomVectors = 100000;
constexpr std::uint64_t kPsumMask = (std::uint64_t{1} << 48) - 1;

struct AdcVector {
    std::int64_t psum;
    numerics::AdcColumn col;
    int bits;
};

std::vector<AdcVector> random_adc_vectors(int count, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-0.25, 1.25);
    std::vector<AdcVector> v;
    for (int k = 0; k < count; ++k) {
        const int bits = 1 + static_cast<int>(rng() % 16);
        const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << (rng() % 31)));
        const std::int64_t base = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 36)) - (std::int64_t{1} << 35);
        const std::int64_t full = (std::int64_t{1} << bits) - 1;
        v.push_back({base + static_cast<std::int64_t>(u(rng) * static_cast<double>(full * step)), {step, base}, bits});
    }
    return v;
}

// The converter in a clocked bench: samples offered back to back, results taken at once.
struct AdcBench : sc_core::sc_module {
    sc_core::sc_clock clk{"clk", 10, sc_core::SC_NS};
    sc_core::sc_signal<bool> rst{"rst"}, in_valid{"in_valid"}, in_ready{"in_ready"}, out_valid{"out_valid"},
        out_ready{"out_ready"}, busy{"busy"};
    sc_core::sc_signal<std::uint32_t> bits{"bits"}, out_code{"out_code"};
    sc_core::sc_signal<std::uint64_t> in_psum{"in_psum"}, in_step{"in_step"}, in_base{"in_base"},
        out_value{"out_value"};
    Vsar_adc_sc dut{"dut"};

    std::vector<AdcVector> vectors;
    std::uint64_t checked = 0, mismatches = 0, latency_errors = 0, edges = 0;

    SC_HAS_PROCESS(AdcBench);
    AdcBench(sc_core::sc_module_name n, std::vector<AdcVector> v) : sc_module(n), vectors(std::move(v)) {
        dut.clk(clk);
        dut.rst(rst);
        dut.bits(bits);
        dut.in_valid(in_valid);
        dut.in_ready(in_ready);
        dut.in_psum(in_psum);
        dut.in_step(in_step);
        dut.in_base(in_base);
        dut.out_valid(out_valid);
        dut.out_ready(out_ready);
        dut.out_code(out_code);
        dut.out_value(out_value);
        dut.busy(busy);
        SC_THREAD(drive);
        sensitive << clk.posedge_event();
        dont_initialize();
    }

    void present(std::size_t k) {
        in_valid.write(k < vectors.size());
        if (k >= vectors.size()) return;
        const AdcVector& v = vectors[k];
        in_psum.write(static_cast<std::uint64_t>(v.psum) & kPsumMask);
        in_step.write(static_cast<std::uint64_t>(v.col.step_fx));
        in_base.write(static_cast<std::uint64_t>(v.col.base_fx) & kPsumMask);
        bits.write(static_cast<std::uint32_t>(v.bits));
    }

    void drive() {
        rst.write(true);
        out_ready.write(true);
        present(0);
        wait();
        wait();
        rst.write(false);
        wait();
        std::size_t next = 0;
        std::deque<std::pair<std::size_t, std::uint64_t>> pending;  // vector, edge that took its sample
        for (std::uint64_t edge = 0; checked < vectors.size(); ++edge) {
            // What this edge does, from the values before it.
            if (out_valid.read() && out_ready.read()) {
                const auto [k, taken] = pending.front();
                pending.pop_front();
                const AdcVector& v = vectors[k];
                const int want = numerics::adc_code(v.psum, v.col, v.bits);
                mismatches += static_cast<int>(out_code.read()) != want ||
                              static_cast<std::int64_t>(out_value.read()) != numerics::adc_value(want, v.col);
                latency_errors += edge - taken != static_cast<std::uint64_t>(v.bits);
                ++checked;
            }
            if (in_valid.read() && in_ready.read()) pending.emplace_back(next++, edge);
            present(next);
            edges = edge;
            wait();
        }
        sc_core::sc_stop();
    }
};

TEST(RtlSystemC, SarAdcModuleMatchesTheContractOnRandomVectorsInBitsClocksEach) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    AdcBench bench("bench", random_adc_vectors(kRandomVectors, 77));
    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bench.dut.final();
    EXPECT_EQ(bench.checked, static_cast<std::uint64_t>(kRandomVectors));
    EXPECT_EQ(bench.mismatches, 0u);
    EXPECT_EQ(bench.latency_errors, 0u);
    std::printf("Vsar_adc_sc vs contract: %llu random vectors bit-exact, every one in `bits` clocks; %llu clocks in "
                "%.2f s (%.0f clocks/s)\n",
                static_cast<unsigned long long>(bench.checked), static_cast<unsigned long long>(bench.edges), s,
                static_cast<double>(bench.edges) / s);
}

TEST(RtlSystemC, SarAdcModuleTracesItsInternalsToVcd) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Verilated::traceEverOn(true);
    AdcBench bench("bench", random_adc_vectors(50, 3));
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    const std::string path = testing::TempDir() + "sar_adc_sc.vcd";
    VerilatedVcdSc vcd;
    bench.dut.trace(&vcd, 99);
    vcd.open(path.c_str());
    ASSERT_TRUE(vcd.isOpen());
    sc_core::sc_start();
    vcd.close();
    bench.dut.final();
    EXPECT_EQ(bench.checked, 50u);
    EXPECT_EQ(bench.mismatches, 0u);
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    for (const char* sig : {"in_psum", "out_code", "acc_q", "left_q"}) EXPECT_NE(text.str().find(sig), std::string::npos) << sig;
    EXPECT_GT(text.str().size(), 10000u);
}

// The PE in a clocked bench against SwisPe, clock by clock.
template <class V>
struct PeBench : sc_core::sc_module {
    sc_core::sc_clock clk{"clk", 10, sc_core::SC_NS};
    sc_core::sc_signal<bool> rst{"rst"}, clear{"clear"}, en{"en"}, group_last{"group_last"};
    sc_core::sc_signal<std::uint32_t> act{"act"}, w_n{"w_n"}, w_sign{"w_sign"}, w_mask{"w_mask"}, w_shift{"w_shift"},
        phase{"phase"};
    sc_core::sc_signal<std::uint64_t> acc{"acc"};
    V dut{"dut"};
    PeMode mode;
    int groups;
    std::uint64_t clocks = 0, checked = 0, mismatches = 0, last_errors = 0;

    SC_HAS_PROCESS(PeBench);
    PeBench(sc_core::sc_module_name n, PeMode m, int g) : sc_module(n), mode(m), groups(g) {
        dut.clk(clk);
        dut.rst(rst);
        dut.clear(clear);
        dut.en(en);
        dut.act(act);
        dut.w_n(w_n);
        dut.w_sign(w_sign);
        dut.w_mask(w_mask);
        dut.w_shift(w_shift);
        dut.group_last(group_last);
        dut.phase(phase);
        dut.acc(acc);
        SC_THREAD(drive);
        sensitive << clk.posedge_event();
        dont_initialize();
    }

    void drive() {
        rst.write(true);
        wait();
        wait();
        rst.write(false);
        SwisPe model(mode);
        std::mt19937_64 rng(mode == PeMode::kSingleShift ? 101 : 202);
        // group_last of each clock written, checked at the edge that runs it; the accumulator after
        // it, checked one edge later (registered).
        std::deque<bool> want_last;
        bool have_prev = false;
        for (int k = 0; k <= groups; ++k) {
            swis::Group g;
            std::uint32_t a = 0;
            const int n = 1 + static_cast<int>(rng() % 8);
            if (k < groups) {
                g.n = static_cast<std::uint8_t>(n);
                std::uint8_t used = 0;
                for (int j = 0; j < n; ++j) {
                    std::uint8_t s;
                    do s = static_cast<std::uint8_t>(rng() % 8);
                    while (used >> s & 1);
                    used |= static_cast<std::uint8_t>(1u << s);
                    g.shift[j] = s;
                }
                g.sign = static_cast<std::uint8_t>(rng() & 0xF);
                for (int i = 0; i < 4; ++i) g.mask[i] = static_cast<std::uint8_t>(rng() & ((1u << n) - 1));
                a = static_cast<std::uint32_t>(rng());
            }
            const bool clr = k < groups && rng() % 16 == 0;
            const int cpg = k < groups ? pe_cycles_per_group(mode, n) : 2;
            for (int c = 0; c < cpg; ++c) {
                // Check the clock that ran at this edge (written at the previous wake).
                if (have_prev) {
                    last_errors += group_last.read() != want_last.front();  // combinational: before this edge
                    want_last.pop_front();
                }
                if (k < groups) {
                    std::uint32_t mask = 0, shifts = 0;
                    for (int i = 0; i < 4; ++i) mask |= std::uint32_t{g.mask[i]} << (8 * i);
                    for (int j = 0; j < n; ++j) shifts |= std::uint32_t{g.shift[j]} << (3 * j);
                    act.write(a);
                    w_n.write(static_cast<std::uint32_t>(n));
                    w_sign.write(g.sign);
                    w_mask.write(mask);
                    w_shift.write(shifts);
                    en.write(true);
                    clear.write(clr && c == 0);
                    if (clr && c == 0) model.clear();
                    std::uint8_t lanes[4];
                    for (int i = 0; i < 4; ++i) lanes[i] = static_cast<std::uint8_t>(a >> (8 * i));
                    const bool last = model.step(lanes, g);
                    want_last.push_back(last);
                    have_prev = true;
                    ++clocks;
                } else {
                    en.write(false);
                    clear.write(false);
                    have_prev = false;
                }
                wait();
                // The accumulator after the clock written at the previous wake.
                if (!accs.empty()) {
                    mismatches += static_cast<std::int64_t>(acc.read()) != accs.front();
                    accs.pop_front();
                    ++checked;
                }
                if (k < groups) accs.push_back(model.acc());
            }
        }
        sc_core::sc_stop();
    }
    std::deque<std::int64_t> accs;
};

template <class V>
void pe_module_matches(PeMode mode) {
    PeBench<V> bench("bench", mode, kRandomVectors);
    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bench.dut.final();
    EXPECT_EQ(bench.mismatches, 0u);
    EXPECT_EQ(bench.last_errors, 0u);
    EXPECT_EQ(bench.checked, bench.clocks);
    EXPECT_GT(bench.clocks, static_cast<std::uint64_t>(kRandomVectors));
    std::printf("V%s vs SwisPe: %d random groups, %llu clocks checked bit-exact clock by clock; %.2f s (%.0f "
                "simulated PE cycles/s under the SystemC kernel)\n",
                mode == PeMode::kSingleShift ? "swis_pe_ss_sc" : "swis_pe_ds_sc", kRandomVectors,
                static_cast<unsigned long long>(bench.checked), s, static_cast<double>(bench.clocks) / s);
}

TEST(RtlSystemC, SingleShiftPeModuleMatchesTheCycleModelOnRandomGroups) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    pe_module_matches<Vswis_pe_ss_sc>(PeMode::kSingleShift);
}

TEST(RtlSystemC, DoubleShiftPeModuleMatchesTheCycleModelOnRandomGroups) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    pe_module_matches<Vswis_pe_ds_sc>(PeMode::kDoubleShift);
}

// The adapters' ports in a SystemC trace file, next to SystemC signals: the values at each time step.
struct AdapterTraceBench : sc_core::sc_module {
    RtlAdcConverter adc;
    RtlSwisPe pe{PeMode::kDoubleShift};
    std::vector<int> codes;

    SC_HAS_PROCESS(AdapterTraceBench);
    explicit AdapterTraceBench(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(drive); }

    void drive() {
        const numerics::AdcColumn col{256, 0};
        for (int k = 0; k < 10; ++k) {
            const std::int64_t psum = 256 * k;
            int code = -1;
            std::int64_t value = 0;
            adc.convert(&psum, &col, 1, 4, &code, &value);
            codes.push_back(code);
            swis::Group g;
            g.n = 2;
            g.shift = {3, 1};
            g.mask = {3, 1, 2, 0};
            const std::uint8_t act[4] = {static_cast<std::uint8_t>(k), 1, 2, 3};
            pe.run_output(PeMode::kDoubleShift, 2, act, &g, 1);
            wait(10, sc_core::SC_NS);
        }
    }
};

TEST(RtlSystemC, AdapterPortsTraceIntoASystemCVcdAtEachTimeStep) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    AdapterTraceBench bench("bench");
    const std::string path = testing::TempDir() + "rtl_adapters";
    sc_core::sc_trace_file* tf = sc_core::sc_create_vcd_trace_file(path.c_str());
    bench.adc.trace(tf, "adc");
    bench.pe.trace(tf, "pe");
    sc_core::sc_start(200, sc_core::SC_NS);
    sc_core::sc_close_vcd_trace_file(tf);
    ASSERT_EQ(bench.codes.size(), 10u);
    for (int k = 0; k < 10; ++k) EXPECT_EQ(bench.codes[static_cast<std::size_t>(k)], k);
    std::ifstream f(path + ".vcd");
    std::stringstream text;
    text << f.rdbuf();
    const std::string vcd = text.str();
    for (const char* sig : {"in_psum", "out_code", "conversions", "w_mask", "acc", "outputs"})
        EXPECT_NE(vcd.find(sig), std::string::npos) << sig;
    // The last conversion of each step: out_code 0..9 appear as the run goes (4-bit vectors).
    EXPECT_NE(vcd.find("b1001 "), std::string::npos);
    std::size_t stamps = 0;
    for (std::size_t at = vcd.find("\n#"); at != std::string::npos; at = vcd.find("\n#", at + 1)) ++stamps;
    EXPECT_GE(stamps, 10u);
}

}  // namespace
}  // namespace cimvp
