// Gate level against RTL: the netlists Yosys synthesizes from rtl/sar_adc.sv and rtl/swis_pe.sv
// (SS and DS), Verilated, run side by side with the Verilated RTL on the same random legal
// traffic (random valid, back-pressure, enables, clears between groups, resets), every output
// compared on every clock. The RTL is what the cross-check tests hold to the models; this shows
// that Yosys reads it as Verilator does. Built and run by test_rtl_synthesis.py (GateLevel):
// the models' classes are Vrtl_* (RTL) and Vgl_* (netlist). Exit 0 when nothing differs.
#include <cstdint>
#include <cstdio>
#include <random>

#include "Vgl_sar_adc.h"
#include "Vgl_swis_pe_ds.h"
#include "Vgl_swis_pe_ss.h"
#include "Vrtl_sar_adc.h"
#include "Vrtl_swis_pe_ds.h"
#include "Vrtl_swis_pe_ss.h"
#include "verilated.h"

namespace {

template <class V>
void half(V& m, int clk) {
    m.clk = static_cast<std::uint8_t>(clk);
    m.eval();
}

struct AdcPins {
    int rst, valid, ready, bits;
    std::uint64_t psum, step, base;
};

template <class V>
void set(V& m, const AdcPins& p) {
    m.rst = static_cast<std::uint8_t>(p.rst);
    m.in_valid = static_cast<std::uint8_t>(p.valid);
    m.out_ready = static_cast<std::uint8_t>(p.ready);
    m.bits = static_cast<std::uint8_t>(p.bits);
    m.in_psum = p.psum;
    m.in_step = p.step;
    m.in_base = p.base;
}

long adc(VerilatedContext& ctx, std::mt19937_64& rng, long clocks) {
    Vgl_sar_adc g(&ctx, "gl");
    Vrtl_sar_adc r(&ctx, "rtl");
    long mismatches = 0, results = 0;
    constexpr std::uint64_t kMask48 = (std::uint64_t{1} << 48) - 1;
    for (long k = 0; k < clocks; ++k) {
        AdcPins p{k < 2 || rng() % 1000 == 0, rng() % 4 != 0, rng() % 3 != 0, 1 + static_cast<int>(rng() % 16),
                  rng() & kMask48, 1 + rng() % (std::uint64_t{1} << (rng() % 40)), rng() & kMask48};
        if (rng() % 2) p.psum = (p.base + p.step * (rng() % 70000)) & kMask48;  // in range: codes other than the ends
        set(g, p);
        set(r, p);
        half(g, 0);
        half(r, 0);
        mismatches += g.in_ready != r.in_ready || g.out_valid != r.out_valid || g.busy != r.busy ||
                      (r.out_valid && (g.out_code != r.out_code || g.out_value != r.out_value));
        results += r.out_valid && r.out_ready && !p.rst;
        half(g, 1);
        half(r, 1);
    }
    std::printf("sar_adc: gate level vs RTL over %ld clocks, %ld results handed over: %ld clocks differ\n", clocks,
                results, mismatches);
    return results > clocks / 20 ? mismatches : mismatches + 1;
}

template <class G, class R>
long pe(VerilatedContext& ctx, std::mt19937_64& rng, long groups, const char* name) {
    G g(&ctx, "gl");
    R r(&ctx, "rtl");
    long mismatches = 0, clocks = 0, nonzero = 0;
    auto set = [](auto& m, int rst, int clear, int en, std::uint32_t act, int n, int sign, std::uint32_t mask,
                  std::uint32_t shift) {
        m.rst = static_cast<std::uint8_t>(rst);
        m.clear = static_cast<std::uint8_t>(clear);
        m.en = static_cast<std::uint8_t>(en);
        m.act = act;
        m.w_n = static_cast<std::uint8_t>(n);
        m.w_sign = static_cast<std::uint8_t>(sign);
        m.w_mask = mask;
        m.w_shift = shift;
    };
    set(g, 1, 0, 0, 0, 0, 0, 0, 0);
    set(r, 1, 0, 0, 0, 0, 0, 0, 0);
    half(g, 0);
    half(r, 0);
    half(g, 1);
    half(r, 1);
    for (long k = 0; k < groups; ++k) {
        // A group held until its last enabled clock; clear only on its first clocks (phase 0).
        const int n = static_cast<int>(rng() % 9), sign = static_cast<int>(rng() & 15);
        const std::uint32_t act = static_cast<std::uint32_t>(rng()), mask = static_cast<std::uint32_t>(rng()),
                            shift = static_cast<std::uint32_t>(rng() & 0xFFFFFF);
        const bool clear = rng() % 8 == 0;
        for (int c = 0;;) {
            const int rst = rng() % 3000 == 0, en = rng() % 5 != 0;
            set(g, rst, clear && c == 0, en, act, n, sign, mask, shift);
            set(r, rst, clear && c == 0, en, act, n, sign, mask, shift);
            half(g, 0);
            half(r, 0);
            mismatches += g.group_last != r.group_last || g.phase != r.phase || g.acc != r.acc;
            nonzero += r.acc != 0;
            const bool last = r.group_last;
            half(g, 1);
            half(r, 1);
            ++clocks;
            if (rst) break;
            if (en && (++c, last)) break;
        }
    }
    std::printf("swis_pe %s: gate level vs RTL over %ld groups, %ld clocks: %ld clocks differ\n", name, groups, clocks,
                mismatches);
    return nonzero > clocks / 2 ? mismatches : mismatches + 1;
}

}  // namespace

int main() {
    VerilatedContext ctx;
    std::mt19937_64 rng(16);
    long bad = adc(ctx, rng, 200000);
    bad += pe<Vgl_swis_pe_ss, Vrtl_swis_pe_ss>(ctx, rng, 40000, "SS");
    bad += pe<Vgl_swis_pe_ds, Vrtl_swis_pe_ds>(ctx, rng, 40000, "DS");
    return bad == 0 ? 0 : 1;
}
