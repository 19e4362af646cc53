#include "rtl/rtl_adc_converter.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "Vsar_adc.h"
#include "hw/arch_config.h"
#include "rtl/rtl_contract.h"
#include "verilated_vcd_c.h"

namespace cimvp {

namespace {

// Every config docs/config.md allows fits the RTL's widths: codes up to adc.bits 16, and the
// largest partial sum (rows x (2^dac_bits - 1) x (2^cell_bits - 1), in frac_bits fixed point).
namespace lim = config_limits;
static_assert(RtlAdcConverter::kMaxBits >= lim::kMaxAdcBits, "sar_adc MAX_BITS below adc.bits' range");
constexpr int kMaxPsumLog2 = 12 + lim::kMaxDacBits + lim::kMaxCellBits + lim::kMaxFracBits;  // 4096 = 2^12 rows
static_assert(lim::kMaxArrayDim <= 4096 && kMaxPsumLog2 < RtlAdcConverter::kPsumBits - 1 &&
                  kMaxPsumLog2 < RtlAdcConverter::kStepBits,
              "sar_adc PSUM_W / STEP_W too narrow for the largest partial sum a config allows");

bool fits_signed(std::int64_t v, int bits) {
    const std::int64_t lim = std::int64_t{1} << (bits - 1);
    return v >= -lim && v < lim;
}

std::uint64_t to_pins(std::int64_t v, int bits) {
    return static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

RtlAdcConverter::RtlAdcConverter() : context_(std::make_unique<VerilatedContext>()) {
    context_->traceEverOn(true);
    keep_contract_errors(*context_);
    model_ = std::make_unique<Vsar_adc>(context_.get(), "sar_adc");
    model_->bits = 1;
    model_->out_ready = 1;
    reset();
}

// Verilator keeps the scopes of a model (the assertions' messages name it) and the state an assertion
// updates when it fires in the calling thread's context, not in the model's (Verilator 5.006): with a
// context per adapter, the thread is pointed at this one around every use of the model.
RtlAdcConverter::~RtlAdcConverter() {
    Verilated::threadContextp(context_.get());
    close_vcd();
    model_->final();
    model_.reset();
    Verilated::threadContextp(Verilated::defaultContextp());  // not this one, about to go
}

void RtlAdcConverter::dump(bool second_half) {
    if (!vcd_ || !vcd_gate_ || vcd_left_ == 0) return;
    vcd_->dump(cycles_ * vcd_clock_ps_ + (second_half ? vcd_clock_ps_ / 2 : 0));
    if (second_half) --vcd_left_;
}

void RtlAdcConverter::half_clock(bool high) {
    Verilated::threadContextp(context_.get());
    model_->clk = high;
    model_->eval();
    dump(high);
    if (high) ++cycles_;
}

void RtlAdcConverter::settle() {
    half_clock(false);
    if (context_->gotError()) contract_violated();
}

void RtlAdcConverter::edge() {
    half_clock(true);
    if (context_->gotError()) contract_violated();
}

void RtlAdcConverter::contract_violated() {
    std::string where = "the RTL ADC converter";
    where += column_ >= 0 ? ", column " + std::to_string(column_) + " of a conversion batch" : ", driven on its pins";
    throw_contract_error(*context_, "sar_adc", where + ", after " + std::to_string(cycles_) + " clocks" + simulation_point());
}

void RtlAdcConverter::reset() {
    model_->rst = 1;
    model_->in_valid = 0;
    clock();
    model_->rst = 0;
}

void RtlAdcConverter::convert(const std::int64_t* psum_fx, const numerics::AdcColumn* cols, int n, int bits,
                              int* codes, std::int64_t* values) {
    if (bits < 1 || bits > kMaxBits)
        throw std::out_of_range("RTL ADC: bits " + std::to_string(bits) + " outside 1.." + std::to_string(kMaxBits));
    const auto t0 = std::chrono::steady_clock::now();
    Vsar_adc& m = *model_;
    m.bits = static_cast<std::uint8_t>(bits);
    m.out_ready = 1;
    for (int c = 0; c < n; ++c) {
        const numerics::AdcColumn& col = cols[c];
        column_ = c;
        if (!fits_signed(psum_fx[c], kPsumBits) || !fits_signed(col.base_fx, kPsumBits) || col.step_fx <= 0 ||
            col.step_fx >= (std::int64_t{1} << kStepBits))
            throw std::out_of_range("RTL ADC: column " + std::to_string(c) + ": partial sum " +
                                    std::to_string(psum_fx[c]) + ", step " + std::to_string(col.step_fx) +
                                    ", base " + std::to_string(col.base_fx) + " outside the RTL's widths (" +
                                    std::to_string(kPsumBits) + "-bit signed sums, " + std::to_string(kStepBits) +
                                    "-bit positive steps)");
        m.in_psum = to_pins(psum_fx[c], kPsumBits);
        m.in_step = static_cast<std::uint64_t>(col.step_fx);
        m.in_base = to_pins(col.base_fx, kPsumBits);
        m.in_valid = 1;
        half_clock(false);
        if (!m.in_ready) throw std::logic_error("RTL ADC: not ready for a sample");
        half_clock(true);  // samples, and makes the first comparison
        m.in_valid = 0;
        for (int k = 1; k < bits; ++k) {
            half_clock(false);
            half_clock(true);
        }
        // The contract binds the sampling edge: one test per conversion, before its result is read.
        if (context_->gotError()) contract_violated();
        if (!m.out_valid) throw std::logic_error("RTL ADC: no result " + std::to_string(bits) + " clocks after the sample");
        if (codes) codes[c] = static_cast<int>(m.out_code);
        values[c] = static_cast<std::int64_t>(m.out_value);
        ++conversions_;
        if (wave_ && c == watch_column_) {
            wave_->change(wave_vars_.psum, watch_time_, static_cast<std::uint64_t>(psum_fx[c]));
            wave_->change(wave_vars_.step, watch_time_, static_cast<std::uint64_t>(col.step_fx));
            wave_->change(wave_vars_.base, watch_time_, static_cast<std::uint64_t>(col.base_fx));
            wave_->change(wave_vars_.code, watch_time_, m.out_code);
            wave_->change(wave_vars_.value, watch_time_, m.out_value);
            wave_->change(wave_vars_.conversions, watch_time_, conversions_);
        }
    }
    watch_column_ = -1;
    column_ = -1;
    wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void RtlAdcConverter::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_vars_.psum = w.declare(scope, "in_psum", kPsumBits);
    wave_vars_.step = w.declare(scope, "in_step", kStepBits);
    wave_vars_.base = w.declare(scope, "in_base", kPsumBits);
    w.show_signed(wave_vars_.psum);
    w.show_signed(wave_vars_.base);
    wave_vars_.code = w.declare(scope, "out_code", kMaxBits);
    wave_vars_.value = w.declare(scope, "out_value", 64);
    wave_vars_.conversions = w.declare(scope, "conversions", 64);
}

void RtlAdcConverter::open_vcd(const std::string& path, std::uint64_t max_cycles, std::uint64_t clock_ps) {
    close_vcd();
    vcd_clock_ps_ = std::max<std::uint64_t>(clock_ps, 2);
    vcd_ = std::make_unique<VerilatedVcdC>();
    model_->trace(vcd_.get(), 99);
    vcd_->open(path.c_str());
    if (!vcd_->isOpen()) {
        vcd_.reset();
        throw std::runtime_error(path + ": cannot open the VCD file for writing");
    }
    vcd_left_ = max_cycles;
}

void RtlAdcConverter::close_vcd() {
    if (!vcd_) return;
    vcd_->close();
    vcd_.reset();
}

void RtlAdcConverter::trace(sc_core::sc_trace_file* tf, const std::string& prefix) const {
    const Vsar_adc& m = *model_;
    sc_core::sc_trace(tf, m.rst, prefix + ".rst");
    sc_core::sc_trace(tf, m.bits, prefix + ".bits", 5);
    sc_core::sc_trace(tf, m.in_valid, prefix + ".in_valid");
    sc_core::sc_trace(tf, m.in_ready, prefix + ".in_ready");
    sc_core::sc_trace(tf, m.in_psum, prefix + ".in_psum", kPsumBits);
    sc_core::sc_trace(tf, m.in_step, prefix + ".in_step", kStepBits);
    sc_core::sc_trace(tf, m.in_base, prefix + ".in_base", kPsumBits);
    sc_core::sc_trace(tf, m.out_valid, prefix + ".out_valid");
    sc_core::sc_trace(tf, m.out_ready, prefix + ".out_ready");
    sc_core::sc_trace(tf, m.out_code, prefix + ".out_code", kMaxBits);
    sc_core::sc_trace(tf, m.out_value, prefix + ".out_value", 64);
    sc_core::sc_trace(tf, m.busy, prefix + ".busy");
    sc_core::sc_trace(tf, conversions_, prefix + ".conversions", 64);
}

}  // namespace cimvp
