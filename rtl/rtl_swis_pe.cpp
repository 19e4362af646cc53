#include "rtl/rtl_swis_pe.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "Vswis_pe_ds.h"
#include "Vswis_pe_ss.h"
#include "rtl/rtl_contract.h"
#include "verilated_vcd_c.h"

namespace cimvp {

namespace {

constexpr int kLanes = swis::kGroupSize;

// The group as the PE's pins carry it, its shifts padded to the tile's n.
struct GroupPins {
    std::uint32_t act = 0, mask = 0, shift = 0;
    std::uint8_t n = 0, sign = 0;
};

GroupPins group_pins(const std::uint8_t* a, const swis::Group& g, int n) {
    GroupPins p;
    for (int i = 0; i < kLanes; ++i) {
        p.act |= std::uint32_t{a[i]} << (8 * i);
        p.mask |= std::uint32_t{g.mask[i]} << (8 * i);
    }
    for (int j = 0; j < g.n; ++j) p.shift |= std::uint32_t{g.shift[j] & 7u} << (3 * j);
    p.n = static_cast<std::uint8_t>(n);
    p.sign = g.sign & 0x0F;
    return p;
}

}  // namespace

struct RtlSwisPe::Model {
    virtual ~Model() = default;
    virtual void set(const GroupPins& p, bool en, bool clear, bool rst) = 0;
    virtual void eval(bool clk) = 0;
    virtual bool group_last() const = 0;
    virtual std::int64_t acc() const = 0;
    virtual int phase() const = 0;
    virtual void trace(VerilatedVcdC* vcd) = 0;
    virtual void trace(sc_core::sc_trace_file* tf, const std::string& prefix) const = 0;
    virtual void final() = 0;
};

namespace {

template <class V>
struct VerilatedPe : RtlSwisPe::Model {
    explicit VerilatedPe(VerilatedContext* ctx) : v(ctx, "swis_pe") {}
    void set(const GroupPins& p, bool en, bool clear, bool rst) override {
        v.act = p.act;
        v.w_mask = p.mask;
        v.w_shift = p.shift;
        v.w_n = p.n;
        v.w_sign = p.sign;
        v.en = en;
        v.clear = clear;
        v.rst = rst;
    }
    void eval(bool clk) override {
        Verilated::threadContextp(v.contextp());  // see ~RtlSwisPe
        v.clk = clk;
        v.eval();
    }
    bool group_last() const override { return v.group_last != 0; }
    std::int64_t acc() const override { return static_cast<std::int64_t>(v.acc); }
    int phase() const override { return v.phase; }
    void trace(VerilatedVcdC* vcd) override { v.trace(vcd, 99); }
    void trace(sc_core::sc_trace_file* tf, const std::string& prefix) const override {
        sc_core::sc_trace(tf, v.rst, prefix + ".rst");
        sc_core::sc_trace(tf, v.clear, prefix + ".clear");
        sc_core::sc_trace(tf, v.en, prefix + ".en");
        sc_core::sc_trace(tf, v.act, prefix + ".act", 32);
        sc_core::sc_trace(tf, v.w_n, prefix + ".w_n", 4);
        sc_core::sc_trace(tf, v.w_sign, prefix + ".w_sign", 4);
        sc_core::sc_trace(tf, v.w_mask, prefix + ".w_mask", 32);
        sc_core::sc_trace(tf, v.w_shift, prefix + ".w_shift", 24);
        sc_core::sc_trace(tf, v.group_last, prefix + ".group_last");
        sc_core::sc_trace(tf, v.phase, prefix + ".phase", 4);
        sc_core::sc_trace(tf, v.acc, prefix + ".acc", 64);
    }
    void final() override { v.final(); }
    V v;
};

}  // namespace

RtlSwisPe::RtlSwisPe(PeMode mode) : mode_(mode), context_(std::make_unique<VerilatedContext>()) {
    context_->traceEverOn(true);
    keep_contract_errors(*context_);
    if (mode == PeMode::kSingleShift)
        model_ = std::make_unique<VerilatedPe<Vswis_pe_ss>>(context_.get());
    else if (mode == PeMode::kDoubleShift)
        model_ = std::make_unique<VerilatedPe<Vswis_pe_ds>>(context_.get());
    else
        throw std::invalid_argument(std::string("RTL PE: the RTL twin has the ss and ds forms, not ") +
                                    pe_mode_name(mode));
    reset();
}

// Verilator keeps the scopes of a model (the assertions' messages name it) and the state an assertion
// updates when it fires in the calling thread's context, not in the model's (Verilator 5.006): with a
// context per adapter, the thread is pointed at this one around every use of the model.
RtlSwisPe::~RtlSwisPe() {
    Verilated::threadContextp(context_.get());
    close_vcd();
    model_->final();
    model_.reset();
    Verilated::threadContextp(Verilated::defaultContextp());  // not this one, about to go
}

void RtlSwisPe::dump(bool second_half) {
    if (!vcd_ || !vcd_gate_ || vcd_left_ == 0) return;
    vcd_->dump(clocks_ * vcd_clock_ps_ + (second_half ? vcd_clock_ps_ / 2 : 0));
    if (second_half) --vcd_left_;
}

// The assertions sit in an always_ff @(posedge clk): only a rising edge can fail them.
void RtlSwisPe::rise() {
    model_->eval(true);
    if (context_->gotError()) contract_violated();
}

void RtlSwisPe::contract_violated() {
    throw_contract_error(*context_, "swis_pe",
                         std::string("the RTL PE datapath (") + pe_mode_name(mode_) + "), output " +
                             std::to_string(outputs_ + 1) + ", after " + std::to_string(clocks_ + 1) + " clocks" +
                             simulation_point());
}

void RtlSwisPe::clock() {
    model_->eval(false);
    dump(false);
    rise();
    dump(true);
    ++clocks_;
}

void RtlSwisPe::reset() {
    model_->set(GroupPins{}, false, false, true);
    clock();
    model_->set(GroupPins{}, false, false, false);
}

std::int64_t RtlSwisPe::acc() const { return model_->acc(); }
int RtlSwisPe::phase() const { return model_->phase(); }

bool RtlSwisPe::step(const std::uint8_t* a, const swis::Group& g, int n, bool clear) {
    model_->set(group_pins(a, g, n), true, clear, false);
    model_->eval(false);
    dump(false);
    const bool last = model_->group_last();  // combinational on this clock's inputs
    rise();
    dump(true);
    ++clocks_;
    ++cycles_;
    return last;
}

std::int64_t RtlSwisPe::run_output(PeMode mode, int n, const std::uint8_t* act, const swis::Group* groups,
                                   std::size_t count) {
    if (mode != mode_)
        throw std::invalid_argument(std::string("RTL PE: built for ") + pe_mode_name(mode_) + ", asked to run " +
                                    pe_mode_name(mode));
    if (n < 0 || n > swis::kShiftPositions)
        throw std::invalid_argument("RTL PE: n " + std::to_string(n) + " outside 0..8");
    const auto t0 = std::chrono::steady_clock::now();
    const int cpg = pe_cycles_per_group(mode_, n);
    bool clear = true;
    for (std::size_t k = 0; k < count; ++k) {
        const swis::Group& g = groups[k];
        if (g.n > n) throw std::invalid_argument("RTL PE: a group of " + std::to_string(g.n) + " shifts in a tile of n " +
                                                 std::to_string(n));
        for (int c = 0; c < cpg; ++c) {
            const bool last = step(act + k * kLanes, g, n, clear);
            clear = false;
            if (last != (c == cpg - 1))
                throw std::logic_error("RTL PE: group_last on clock " + std::to_string(c + 1) + " of a " +
                                       std::to_string(cpg) + "-clock group");
        }
        ++groups_;
    }
    if (clear) {  // no clock ran (no groups, or n = 0): the output is an empty sum
        model_->set(GroupPins{}, false, true, false);
        clock();
    }
    model_->set(GroupPins{}, false, false, false);
    ++outputs_;
    wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return model_->acc();
}

void RtlSwisPe::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_vars_.acc = w.declare(scope, "acc", 64);
    wave_vars_.outputs = w.declare(scope, "outputs", 64);
    wave_vars_.cycles = w.declare(scope, "cycles", 64);
}

void RtlSwisPe::job_done(const sc_core::sc_time& done) {
    if (!wave_) return;
    wave_->change(wave_vars_.acc, done, static_cast<std::uint64_t>(model_->acc()));
    wave_->change(wave_vars_.outputs, done, outputs_);
    wave_->change(wave_vars_.cycles, done, cycles_);
}

void RtlSwisPe::open_vcd(const std::string& path, std::uint64_t max_cycles, std::uint64_t clock_ps) {
    close_vcd();
    vcd_clock_ps_ = std::max<std::uint64_t>(clock_ps, 2);
    vcd_ = std::make_unique<VerilatedVcdC>();
    model_->trace(vcd_.get());
    vcd_->open(path.c_str());
    if (!vcd_->isOpen()) {
        vcd_.reset();
        throw std::runtime_error(path + ": cannot open the VCD file for writing");
    }
    vcd_left_ = max_cycles;
}

void RtlSwisPe::close_vcd() {
    if (!vcd_) return;
    vcd_->close();
    vcd_.reset();
}

void RtlSwisPe::trace(sc_core::sc_trace_file* tf, const std::string& prefix) const {
    model_->trace(tf, prefix);
    sc_core::sc_trace(tf, outputs_, prefix + ".outputs", 64);
}

}  // namespace cimvp
