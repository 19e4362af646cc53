// The RTL blocks' input contracts (docs/rtl.md, "Input contracts"): an illegal input on
// rtl/sar_adc.sv or rtl/swis_pe.sv (Verilated with --assert) fires the block's immediate
// assertion; in the adapters' contexts (and any context that keeps its errors) the clock
// then throws RtlContractError naming the block, the assertion's message and what drove it,
// nothing is printed, and the model runs on after a reset; a context that does not keep its
// errors still stops the process with Verilator's message (a death test). Inputs the contract
// allows, however odd, fire nothing; what the hardware does with the assertions off; reset
// while a sample is offered; the ADC bit-exact at the widest widths its 64-bit comparator
// allows and, exhaustively, at narrow ones; the accumulator's overflow. Besides the
// platform's builds, this test Verilates its own parameterizations of the same sources
// (testbench/CMakeLists.txt).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <type_traits>
#include <utility>

#include "Vsar_adc.h"
#include "Vsar_adc_narrow.h"
#include "Vsar_adc_widest.h"
#include "Vswis_pe_acc20.h"
#include "hw/swis_pe.h"
#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_contract.h"
#include "rtl/rtl_swis_pe.h"
#include "sw/contract/numerics.h"

namespace cimvp {
namespace {

__extension__ typedef __int128 Int128;

// Verilator prints an assertion's message and "Aborting..." on stdout; a death test reads stderr.
void stdout_to_stderr() {
    std::fflush(stdout);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
}

// Runs f, which breaks a contract: the RtlContractError it throws. Verilator's message is in the
// error, not on stdout; the error is one line (cimvp prints it as one).
template <class F>
RtlContractError contract_error(F&& f) {
    testing::internal::CaptureStdout();
    try {
        f();
    } catch (const RtlContractError& e) {
        EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        return e;
    } catch (const std::exception& e) {
        testing::internal::GetCapturedStdout();
        ADD_FAILURE() << "another exception: " << e.what();
        return RtlContractError("", "", "", "");
    }
    ADD_FAILURE() << "no RtlContractError; stdout: " << testing::internal::GetCapturedStdout();
    return RtlContractError("", "", "", "");
}

// The error names the block, carries the assertion's message as the rule and its source line, and
// says what drove the block.
void expect_contract_error(const RtlContractError& e, const std::string& block, const std::string& rule,
                           const std::string& where) {
    EXPECT_EQ(e.block(), block);
    EXPECT_EQ(e.rule(), rule);
    EXPECT_TRUE(std::regex_match(e.source(), std::regex(block + "\\.sv:[0-9]+"))) << e.source();
    EXPECT_NE(e.where().find(where), std::string::npos) << e.where();
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("RTL input contract of " + block + " violated: " + rule + " (" + e.source() + "; ", 0), 0u)
        << what;
    EXPECT_NE(what.find(e.where()), std::string::npos) << what;
}

template <class V>
void clock(V& m) {
    m.clk = 0;
    m.eval();
    m.clk = 1;
    m.eval();
}

template <class V>
void reset(V& m) {
    m.rst = 1;
    clock(m);
    m.rst = 0;
}

// Two's complement pins of a `bits`-wide port.
std::uint64_t pins(std::int64_t v, int bits) {
    return static_cast<std::uint64_t>(v) & (bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1);
}

// ---------------------------------------------------------------- sar_adc

// Offers one sample on the pins of the platform's ADC build and runs one clock: takes it.
void offer(RtlAdcConverter& rtl, int bits, std::int64_t step, std::int64_t psum = 1000) {
    Vsar_adc& m = rtl.pins();
    m.bits = static_cast<std::uint8_t>(bits);
    m.in_step = static_cast<std::uint64_t>(step);
    m.in_psum = pins(psum, RtlAdcConverter::kPsumBits);
    m.in_base = 0;
    m.out_ready = 1;
    m.in_valid = 1;
    rtl.clock();
    m.in_valid = 0;
}

// After an error the converter runs on: reset, a legal conversion through convert() is exact.
void expect_converts_after_reset(RtlAdcConverter& rtl) {
    rtl.reset();
    const std::int64_t psum = 5 * 256 + 100;
    const numerics::AdcColumn col{256, 0};
    int code = -1;
    std::int64_t value = -1;
    EXPECT_NO_THROW(rtl.convert(&psum, &col, 1, 8, &code, &value));
    EXPECT_EQ(code, 5);
    EXPECT_EQ(value, 5 * 256);
}

TEST(RtlContracts, AdcBitsZeroTakenThrowsTheContractErrorAndTheConverterRunsOn) {
    RtlAdcConverter rtl;
    const RtlContractError e = contract_error([&] { offer(rtl, 0, 256); });
    expect_contract_error(e, "sar_adc", "sar_adc: bits 0 outside 1..16", "the RTL ADC converter, driven on its pins");
    EXPECT_EQ(e.where(), "the RTL ADC converter, driven on its pins, after 2 clocks") << "reset's and the sample's";
    std::printf("%s\n", e.what());
    expect_converts_after_reset(rtl);
}

TEST(RtlContracts, AdcBitsAboveMaxBitsTakenThrowsTheContractError) {
    for (const int bits : {17, 31}) {
        RtlAdcConverter rtl;
        offer(rtl, 8, 256);  // a legal conversion first
        for (int i = 0; i < 8; ++i) rtl.clock();
        const RtlContractError e = contract_error([&] { offer(rtl, bits, 256); });
        expect_contract_error(e, "sar_adc", "sar_adc: bits " + std::to_string(bits) + " outside 1..16",
                              "the RTL ADC converter");
        expect_converts_after_reset(rtl);
    }
}

TEST(RtlContracts, AdcStepZeroTakenThrowsTheContractError) {
    RtlAdcConverter rtl;
    const RtlContractError e = contract_error([&] { offer(rtl, 8, 0); });
    expect_contract_error(e, "sar_adc", "sar_adc: step 0 (must be > 0)", "the RTL ADC converter");
    expect_converts_after_reset(rtl);
}

// Both assertions fail on the same edge: one error with both messages.
TEST(RtlContracts, AdcBitsZeroAndStepZeroOnOneSampleAreOneErrorWithBothMessages) {
    RtlAdcConverter rtl;
    const RtlContractError e = contract_error([&] { offer(rtl, 0, 0); });
    expect_contract_error(e, "sar_adc", "sar_adc: bits 0 outside 1..16; sar_adc: step 0 (must be > 0)",
                          "the RTL ADC converter");
}

// The contract binds the sample the converter takes, nothing else: illegal values on the pins
// while no sample is taken (in_valid low, the converter busy, or in reset) fire nothing, and
// bits may change during a conversion (it is read on the sampling edge only).
TEST(RtlContracts, AdcIllegalValuesNotTakenFireNothing) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.bits = 0;
    m.in_step = 0;
    m.in_valid = 0;
    for (int i = 0; i < 5; ++i) rtl.clock();  // not offered
    m.in_valid = 1;
    m.rst = 1;
    rtl.settle();
    EXPECT_FALSE(m.in_ready) << "no sample is taken by a reset edge";
    rtl.edge();  // offered during reset
    m.rst = 0;
    m.in_valid = 0;
    offer(rtl, 12, 1000, 5 * 1000 + 499);  // a legal sample; then illegal ones offered while it converts
    m.bits = 0;
    m.in_step = 0;
    m.in_valid = 1;
    for (int i = 1; i < 12; ++i) {
        rtl.settle();
        ASSERT_FALSE(m.in_ready);
        rtl.edge();
    }
    m.in_valid = 0;
    m.out_ready = 0;
    rtl.settle();
    ASSERT_TRUE(m.out_valid);
    EXPECT_EQ(m.out_code, 5u) << "bits changed to 0 during the conversion: the 12-bit conversion is unaffected";
    EXPECT_EQ(static_cast<std::int64_t>(m.out_value), 5000);
    EXPECT_TRUE(m.contextp()->assertOn());
}

// With the assertions off, what the synthesized hardware would do: step 0 makes every DAC level
// 0, so the code is full scale for psum >= base and 0 below, and the value is the base.
TEST(RtlContracts, AdcStepZeroWithTheAssertionsOffGivesFullScaleOrZero) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.contextp()->assertOn(false);
    for (const std::int64_t psum : {std::int64_t{0}, std::int64_t{5}, std::int64_t{-1}}) {
        offer(rtl, 6, 0, psum);
        for (int i = 1; i < 6; ++i) rtl.clock();
        rtl.settle();
        ASSERT_TRUE(m.out_valid);
        EXPECT_EQ(m.out_code, psum >= 0 ? 63u : 0u) << psum;
        EXPECT_EQ(m.out_value, 0u);
        rtl.clock();  // hands it over
    }
}

// bits outside 1..16 with the assertions off: bits 0 counts 0 - 1 = 31 more clocks (a 32-clock
// conversion); bits 17 decides a 17-bit code whose top bit has no place in out_code, while
// out_value (base + the DAC's 2 * code * step / 2) keeps it.
TEST(RtlContracts, AdcBitsOutsideTheRangeWithTheAssertionsOff) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.contextp()->assertOn(false);
    offer(rtl, 0, 256, 1000);
    int clocks = 1;
    for (rtl.settle(); !m.out_valid && clocks < 100; rtl.settle()) {
        rtl.edge();
        ++clocks;
    }
    EXPECT_EQ(clocks, 32);
    rtl.clock();
    const std::int64_t psum = (std::int64_t{1} << 16) + 5;
    offer(rtl, 17, 1, psum);
    for (int i = 1; i < 17; ++i) rtl.clock();
    rtl.settle();
    ASSERT_TRUE(m.out_valid);
    EXPECT_EQ(m.out_code, 5u);
    EXPECT_EQ(static_cast<std::int64_t>(m.out_value), psum);
}

// Reset while a sample is offered: in_ready is low during the reset clock, so the sample is not
// taken then; still offered after reset, it is taken on the next edge and converted exactly.
TEST(RtlContracts, AdcResetWhileASampleIsOfferedTakesItAfterTheReset) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    m.bits = 4;
    m.in_step = 256;
    m.in_base = 0;
    m.in_psum = 9 * 256;
    m.out_ready = 1;
    m.in_valid = 1;
    m.rst = 1;
    rtl.settle();
    EXPECT_FALSE(m.in_ready);
    rtl.edge();
    EXPECT_FALSE(m.busy);
    m.rst = 0;
    rtl.settle();
    EXPECT_TRUE(m.in_ready);
    rtl.edge();  // taken
    m.in_valid = 0;
    for (int i = 1; i < 4; ++i) rtl.clock();
    rtl.settle();
    ASSERT_TRUE(m.out_valid);
    EXPECT_EQ(m.out_code, 9u);
    // A result pending at a reset edge is dropped; a conversion in progress is abandoned.
    m.out_ready = 0;
    m.rst = 1;
    rtl.clock();
    m.rst = 0;
    rtl.settle();
    EXPECT_FALSE(m.out_valid);
    EXPECT_FALSE(m.busy);
}

// Random legal traffic on the pins: random valid, back-pressure and resets, every handshake
// checked against the contract; the assertions watch every sample taken and fire on none.
TEST(RtlContracts, AdcRandomLegalHandshakesFireNothingAndConvertExactly) {
    RtlAdcConverter rtl;
    Vsar_adc& m = rtl.pins();
    std::mt19937_64 rng(16);
    struct Sample {
        std::int64_t psum;
        numerics::AdcColumn col;
        int bits;
    };
    auto draw = [&] {
        const int bits = 1 + static_cast<int>(rng() % 16);
        const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << (rng() % 39)));
        const std::int64_t base = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 40)) - (std::int64_t{1} << 39);
        const std::int64_t span = ((std::int64_t{1} << bits) + 2) * step;
        std::int64_t psum = base - step + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
        psum = std::max(std::min(psum, (std::int64_t{1} << 47) - 1), -(std::int64_t{1} << 47));
        return Sample{psum, {step, base}, bits};
    };
    Sample offered = draw(), converting{};
    bool in_flight = false;
    std::uint64_t taken = 0, checked = 0, resets = 0;
    for (int clk = 0; clk < 200000; ++clk) {
        const bool rst = rng() % 500 == 0;
        m.rst = rst;
        m.in_valid = rng() % 4 != 0;
        m.out_ready = rng() % 3 != 0;
        m.bits = static_cast<std::uint8_t>(offered.bits);
        m.in_psum = pins(offered.psum, 48);
        m.in_step = static_cast<std::uint64_t>(offered.col.step_fx);
        m.in_base = pins(offered.col.base_fx, 48);
        rtl.settle();
        if (!rst && m.out_valid && m.out_ready) {
            ASSERT_TRUE(in_flight);
            const int want = numerics::adc_code(converting.psum, converting.col, converting.bits);
            ASSERT_EQ(static_cast<int>(m.out_code), want) << "clock " << clk;
            ASSERT_EQ(static_cast<std::int64_t>(m.out_value), numerics::adc_value(want, converting.col));
            in_flight = false;
            ++checked;
        }
        const bool take = m.in_valid && m.in_ready;
        ASSERT_FALSE(rst && take);
        if (take) {
            ASSERT_FALSE(in_flight && !(m.out_valid && m.out_ready));
            converting = offered;
            in_flight = true;
            offered = draw();
            ++taken;
        }
        if (rst) {
            in_flight = false;
            ++resets;
        }
        rtl.edge();
    }
    EXPECT_GT(checked, 10000u);
    EXPECT_GT(resets, 100u);
    std::printf("sar_adc: %llu samples taken under random valid, back-pressure and %llu resets; %llu results "
                "checked, no assertion fired\n",
                static_cast<unsigned long long>(taken), static_cast<unsigned long long>(resets),
                static_cast<unsigned long long>(checked));
}

// A conversion on the pins of a test build of sar_adc with other parameters. V's in_psum may be
// 8 or 64 bits wide, so the pins are cast to the port's type.
template <class V>
std::pair<int, std::int64_t> convert(V& m, int psum_w, std::int64_t psum, std::int64_t step, std::int64_t base,
                                     int bits) {
    m.bits = static_cast<std::uint8_t>(bits);
    m.in_psum = static_cast<std::remove_reference_t<decltype(m.in_psum)>>(pins(psum, psum_w));
    m.in_base = static_cast<std::remove_reference_t<decltype(m.in_base)>>(pins(base, psum_w));
    m.in_step = static_cast<std::remove_reference_t<decltype(m.in_step)>>(step);
    m.out_ready = 1;
    m.in_valid = 1;
    clock(m);
    m.in_valid = 0;
    for (int k = 1; k < bits; ++k) clock(m);
    m.clk = 0;
    m.eval();
    EXPECT_TRUE(m.out_valid);
    return {static_cast<int>(m.out_code), static_cast<std::int64_t>(m.out_value)};
}

// The contract's code in 128 bits: clamp(round_half_up((psum - base) / step), 0, 2^bits - 1).
std::int64_t want_code(Int128 psum, Int128 step, Int128 base, int bits) {
    const Int128 num = 2 * (psum - base) + step, den = 2 * step;
    Int128 q = num / den;
    if (num % den != 0 && num < 0) --q;  // floor
    const Int128 top = (Int128{1} << bits) - 1;
    return static_cast<std::int64_t>(q < 0 ? 0 : (q > top ? top : q));
}

// The widest widths the elaboration check allows (PSUM_W 62, STEP_W 46, MAX_BITS 16: a 64-bit
// comparator with no bit to spare): random samples across the whole range, bit-exact.
TEST(RtlContracts, AdcAtTheWidestLegalWidthsIsExact) {
    Vsar_adc_widest m;
    reset(m);
    std::mt19937_64 rng(46);
    constexpr int kP = 62, kS = 46;
    std::uint64_t checked = 0, top = 0;
    for (int k = 0; k < 20000; ++k) {
        const int bits = k % 3 == 0 ? 16 : 1 + static_cast<int>(rng() % 16);
        const std::int64_t step = k % 5 == 0 ? (std::int64_t{1} << kS) - 1 - static_cast<std::int64_t>(rng() % 1000)
                                             : 1 + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << (1 + rng() % (kS - 1))));
        auto wide = [&] { return static_cast<std::int64_t>(rng()) >> (64 - kP); };  // any kP-bit signed value
        const std::int64_t base = k % 7 == 0 ? -(std::int64_t{1} << (kP - 1)) : wide();
        std::int64_t psum = k % 2 ? wide() : base + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 16)) * step;
        if (psum >= (std::int64_t{1} << (kP - 1)) || psum < -(std::int64_t{1} << (kP - 1)) || (k % 2 == 0 && psum < base))
            psum = (std::int64_t{1} << (kP - 1)) - 1;
        const auto [code, value] = convert(m, kP, psum, step, base, bits);
        const std::int64_t want = want_code(psum, step, base, bits);
        ASSERT_EQ(code, want) << "psum " << psum << " step " << step << " base " << base << " bits " << bits;
        ASSERT_EQ(value, base + want * step);
        top += want == (std::int64_t{1} << bits) - 1;
        ++checked;
        clock(m);
    }
    EXPECT_GT(top, checked / 10);
    std::printf("sar_adc PSUM_W %d STEP_W %d: %llu random conversions bit-exact (%llu at full scale)\n", kP, kS,
                static_cast<unsigned long long>(checked), static_cast<unsigned long long>(top));
}

// A narrow build (PSUM_W 6, STEP_W 3, MAX_BITS 3), exhaustively: every psum, base, step and bits.
TEST(RtlContracts, AdcWithNarrowWidthsIsExactOnEveryInput) {
    Vsar_adc_narrow m;
    reset(m);
    std::uint64_t checked = 0;
    for (int bits = 1; bits <= 3; ++bits)
        for (std::int64_t step = 1; step < 8; ++step)
            for (std::int64_t base = -32; base < 32; ++base)
                for (std::int64_t psum = -32; psum < 32; ++psum) {
                    const auto [code, value] = convert(m, 6, psum, step, base, bits);
                    const int want = numerics::adc_code(psum, {step, base}, bits);
                    ASSERT_EQ(code, want) << "psum " << psum << " step " << step << " base " << base << " bits " << bits;
                    ASSERT_EQ(value, numerics::adc_value(want, {step, base}));
                    clock(m);
                    ++checked;
                }
    EXPECT_EQ(checked, 3u * 7 * 64 * 64);
}

// ---------------------------------------------------------------- swis_pe

swis::Group full_group(std::uint8_t sign) {
    swis::Group g;  // every weight +-255: all eight shifts, every mask bit
    g.n = 8;
    for (int j = 0; j < 8; ++j) g.shift[j] = static_cast<std::uint8_t>(7 - j);
    g.mask = {0xFF, 0xFF, 0xFF, 0xFF};
    g.sign = sign;
    return g;
}

constexpr std::array<std::uint8_t, 4> kAct = {10, 20, 30, 40};

// After an error the PE runs on: reset, a whole output through run_output equals the cycle model.
void expect_runs_after_reset(RtlSwisPe& rtl, PeMode mode) {
    rtl.reset();
    const swis::Group g = full_group(0x5);
    SwisPe model(mode);
    model.run_group(kAct.data(), g);
    std::int64_t acc = -1;
    EXPECT_NO_THROW(acc = rtl.run_output(mode, 8, kAct.data(), &g, 1));
    EXPECT_EQ(acc, model.acc());
}

// The 20-bit accumulator of a test build, in a context of its own that keeps its errors as the
// adapters' do; clocked, it throws the contract's error as they do.
struct KeptAcc20 {
    std::unique_ptr<VerilatedContext> ctx = std::make_unique<VerilatedContext>();
    std::unique_ptr<Vswis_pe_acc20> m;
    KeptAcc20() {
        keep_contract_errors(*ctx);
        Verilated::threadContextp(ctx.get());
        m = std::make_unique<Vswis_pe_acc20>(ctx.get(), "swis_pe");
        ::cimvp::reset(*m);
    }
    ~KeptAcc20() {
        Verilated::threadContextp(ctx.get());
        m->final();
        m.reset();
        Verilated::threadContextp(Verilated::defaultContextp());
    }
    void clock() {
        ::cimvp::clock(*m);
        if (ctx->gotError()) throw_contract_error(*ctx, "swis_pe", "the test's 20-bit PE");
    }
};

TEST(RtlContracts, PeMoreThanEightShiftsThrowsTheContractError) {
    for (const PeMode mode : {PeMode::kSingleShift, PeMode::kDoubleShift}) {
        RtlSwisPe rtl(mode);
        const RtlContractError e = contract_error([&] { rtl.step(kAct.data(), full_group(0), 9, true); });
        expect_contract_error(e, "swis_pe", "swis_pe: w_n 9 above 8",
                              std::string("the RTL PE datapath (") + pe_mode_name(mode) + "), output 1, after 2 clocks");
        expect_runs_after_reset(rtl, mode);
    }
}

TEST(RtlContracts, PeGroupChangedInTheMiddleThrowsTheContractError) {
    {
        RtlSwisPe rtl(PeMode::kSingleShift);
        std::array<std::uint8_t, 4> other = kAct;
        other[3] = 41;
        rtl.step(kAct.data(), full_group(0), 8, true);
        rtl.step(kAct.data(), full_group(0), 8, false);
        const RtlContractError e = contract_error([&] { rtl.step(other.data(), full_group(0), 8, false); });
        expect_contract_error(e, "swis_pe", "swis_pe: the group or activations changed on clock 2 of a group",
                              "the RTL PE datapath (ss)");
        expect_runs_after_reset(rtl, PeMode::kSingleShift);
    }
    RtlSwisPe rtl(PeMode::kDoubleShift);
    rtl.step(kAct.data(), full_group(0), 8, true);
    const RtlContractError e = contract_error([&] { rtl.step(kAct.data(), full_group(0), 7, false); });
    expect_contract_error(e, "swis_pe", "swis_pe: the group or activations changed on clock 1 of a group",
                          "the RTL PE datapath (ds)");
    expect_runs_after_reset(rtl, PeMode::kDoubleShift);
}

TEST(RtlContracts, PeClearInTheMiddleOfAGroupThrowsTheContractError) {
    RtlSwisPe rtl(PeMode::kSingleShift);
    rtl.step(kAct.data(), full_group(0), 8, true);
    const RtlContractError e = contract_error([&] { rtl.step(kAct.data(), full_group(0), 8, true); });
    expect_contract_error(e, "swis_pe", "swis_pe: clear on clock 1 of a group (only between groups)",
                          "the RTL PE datapath (ss)");
    expect_runs_after_reset(rtl, PeMode::kSingleShift);
    KeptAcc20 k;  // en low: the same
    k.m->en = 1;
    k.m->w_n = 4;
    k.m->clear = 1;
    k.clock();
    k.m->en = 0;
    k.m->clear = 0;
    k.clock();
    k.m->clear = 1;
    expect_contract_error(contract_error([&] { k.clock(); }), "swis_pe",
                          "swis_pe: clear on clock 1 of a group (only between groups)", "the test's 20-bit PE");
}

// A context that does not keep its errors (Verilator's default, as the SystemC twins' of the
// cross-check benches) prints the assertion's message and stops the process, as before.
TEST(RtlContracts, AContextThatDoesNotKeepItsErrorsStillStopsTheProcessWithTheMessage) {
    EXPECT_DEATH(
        {
            stdout_to_stderr();
            Vswis_pe_acc20 m;
            reset(m);
            m.en = 1;
            m.w_n = 4;
            m.clear = 1;
            clock(m);
            m.clear = 1;
            clock(m);
        },
        "Assertion failed in .*swis_pe: clear on clock 1 of a group.*\n.*Verilog \\$stop");
}

// Legal but unusual: an enabled clock on a group of 0 shifts is the group's only clock and adds
// nothing; clear with en low between groups; new groups back to back; reset in a group.
TEST(RtlContracts, PeLegalCornersFireNothing) {
    RtlSwisPe rtl(PeMode::kDoubleShift);
    swis::Group empty;
    EXPECT_TRUE(rtl.step(kAct.data(), empty, 0, true));
    EXPECT_EQ(rtl.acc(), 0);
    EXPECT_EQ(rtl.run_output(PeMode::kDoubleShift, 0, nullptr, nullptr, 0), 0);  // clear with en low
    SwisPe model(PeMode::kDoubleShift);
    const swis::Group g = full_group(0x5);
    model.run_group(kAct.data(), g);
    for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 4; ++c) rtl.step(kAct.data(), g, 8, k == 0 && c == 0);
    EXPECT_EQ(rtl.acc(), 3 * model.acc());
    rtl.step(kAct.data(), g, 8, false);
    rtl.reset();  // in the middle of a group: the next clock starts a new one, with other inputs
    const std::array<std::uint8_t, 4> other = {1, 2, 3, 4};
    for (int c = 0; c < 4; ++c) EXPECT_EQ(rtl.step(other.data(), g, 8, c == 0), c == 3);
    SwisPe model2(PeMode::kDoubleShift);
    model2.run_group(other.data(), g);
    EXPECT_EQ(rtl.acc(), model2.acc());
}

// The 20-bit accumulator of a test build: a full-scale group adds 4 * 255 * 255 = 260,100, so
// the third one leaves 20 bits. With the assertions on the clock that overflows throws; off, the
// sum wraps modulo 2^20 as the hardware's adder does.
std::int64_t acc20(const Vswis_pe_acc20& m) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(m.acc) << 44) >> 44; }

// Runs `groups` full-scale groups; after every clock `after_clock` (when given).
void run_full_groups(Vswis_pe_acc20& m, int groups, const std::function<void()>& after_clock = {}) {
    const swis::Group g = full_group(0);
    m.act = 0xFFFFFFFFu;
    m.w_mask = 0xFFFFFFFFu;
    m.w_sign = 0;
    m.w_n = 8;
    std::uint32_t shifts = 0;
    for (int j = 0; j < 8; ++j) shifts |= std::uint32_t{g.shift[j]} << (3 * j);
    m.w_shift = shifts;
    m.en = 1;
    for (int k = 0; k < groups; ++k)
        for (int c = 0; c < 8; ++c) {
            m.clear = k == 0 && c == 0;
            clock(m);
            if (after_clock) after_clock();
        }
    m.en = 0;
    m.clear = 0;
}

TEST(RtlContracts, PeAccumulatorOverflowThrowsTheContractError) {
    KeptAcc20 k;
    const RtlContractError e = contract_error([&] {
        run_full_groups(*k.m, 3, [&] {
            if (k.ctx->gotError()) throw_contract_error(*k.ctx, "swis_pe", "the test's 20-bit PE");
        });
    });
    EXPECT_EQ(e.block(), "swis_pe");
    EXPECT_TRUE(std::regex_match(e.rule(), std::regex("swis_pe: accumulator overflow: 520200 \\+ [0-9]+ leaves 20 bits")))
        << e.rule();
    EXPECT_NE(std::string(e.what()).find("the test's 20-bit PE"), std::string::npos) << e.what();
}

TEST(RtlContracts, PeAccumulatorWrapsWithTheAssertionsOffAndHoldsTwoFullGroups) {
    Vswis_pe_acc20 m;
    reset(m);
    run_full_groups(m, 2);
    EXPECT_EQ(acc20(m), 2 * 260100);
    m.contextp()->assertOn(false);
    run_full_groups(m, 3);
    EXPECT_EQ(acc20(m), 3 * 260100 - (1 << 20));
}

// w_n 9 with the assertions off: the ninth clock's shift 8 is shift 0 again (3-bit index),
// so the group adds shift 0's contribution twice.
TEST(RtlContracts, PeNineShiftsWithTheAssertionsOffRepeatShiftZero) {
    Vswis_pe_acc20 m;
    reset(m);
    m.contextp()->assertOn(false);
    m.act = 0x01010101u * 3;  // 3 on every lane
    m.w_mask = 0x01010101u;   // every weight uses shift 0 only
    m.w_shift = 2;            // shift 0 = 2
    m.w_sign = 0;
    m.w_n = 9;
    m.en = 1;
    m.clear = 1;
    int clocks = 0;
    for (;;) {
        m.clk = 0;
        m.eval();
        const bool last = m.group_last;
        m.clk = 1;
        m.eval();
        m.clear = 0;
        ++clocks;
        if (last) break;
    }
    EXPECT_EQ(clocks, 9);
    EXPECT_EQ(acc20(m), 2 * 4 * 3 * 4);
}

}  // namespace
}  // namespace cimvp
