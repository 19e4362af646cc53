#include "hw/post_processing_unit.h"

#include <cstring>

#include "hw/engine_registers.h"
#include "sw/contract/post_processing.h"
#include "tlm/error_report.h"

namespace cimvp {

using tlmx::Access;
using tlmx::RegisterSpec;

namespace {
constexpr int kMaxShift = 62;
constexpr int kMaxActivationBits = 8;

const char* error_name(PostProcessError e) {
    switch (e) {
        case PostProcessError::kNone: return "none";
        case PostProcessError::kDescriptorFetch: return "descriptor fetch";
        case PostProcessError::kRead: return "read";
        case PostProcessError::kWrite: return "write";
        case PostProcessError::kBadDescriptor: return "bad descriptor";
    }
    return "?";
}
}  // namespace

PostProcessingUnit::PostProcessingUnit(sc_core::sc_module_name name, const DigitalConfig& cfg, double bytes_per_ns)
    : sc_module(name),
      regs_socket("regs_socket"),
      bus_socket("bus_socket"),
      cfg_(cfg),
      port_(bus_socket, kMaxBurstBytes, bytes_per_ns) {
    using namespace ppu_regs;
    regs_.set_report(kReportId, this->name());
    engine_regs::add(regs_, kIdValue, &start_requested_);
    regs_.add(RegisterSpec{"OUTPUTS", kOutputs, Access::kReadOnly, 0},
              [this](std::uint32_t) { return static_cast<std::uint32_t>(counters_.outputs); });
    regs_.set_access_latency(sc_core::sc_time(cfg.clock_ns, sc_core::SC_NS));
    regs_socket.register_b_transport(this, &PostProcessingUnit::regs_b_transport);
    regs_socket.register_transport_dbg(this, &PostProcessingUnit::regs_dbg);
}

void PostProcessingUnit::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_busy_ = w.declare(scope, "busy", 1);
    wave_outputs_ = w.declare(scope, "outputs", 32);
}

void PostProcessingUnit::regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    start_requested_ = false;
    regs_.transport(t, delay);
    if (!start_requested_ || !t.is_response_ok()) return;
    start_requested_ = false;
    ++counters_.jobs;
    const sc_core::sc_time started = sc_core::sc_time_stamp() + delay;
    const std::uint64_t outputs_before = counters_.outputs;
    const PostProcessError e = run(delay);
    if (wave_) {
        wave_->change(wave_busy_, started, 1);
        wave_->change(wave_outputs_, started, counters_.outputs - outputs_before);
        wave_->change(wave_busy_, sc_core::sc_time_stamp() + delay, 0);
    }
    if (e != PostProcessError::kNone) {
        ++counters_.errors;
        tlmx::report_job_error(kReportId, name(),
                               "descriptor at " + tlmx::hex_address(engine_regs::descriptor_address(regs_)),
                               static_cast<std::uint32_t>(e), error_name(e));
    }
    regs_.set(ppu_regs::kError, static_cast<std::uint32_t>(e));
    regs_.set(ppu_regs::kStatus, e == PostProcessError::kNone ? ppu_regs::kStatusDone : ppu_regs::kStatusError);
}

PostProcessError PostProcessingUnit::run(sc_core::sc_time& delay) {
    const std::uint64_t at = engine_regs::descriptor_address(regs_);
    PostProcessDescriptor d;
    if (!port_.block(tlm::TLM_READ_COMMAND, at, reinterpret_cast<std::uint8_t*>(&d), sizeof d, delay))
        return PostProcessError::kDescriptorFetch;
    return execute(d, delay);
}

PostProcessError PostProcessingUnit::execute(const PostProcessDescriptor& d, sc_core::sc_time& delay) {
    const auto C = static_cast<std::size_t>(d.channels);
    const int oh = static_cast<int>(d.out_h), ow = static_cast<int>(d.out_w);
    const auto pool = static_cast<PoolKind>(d.pool);
    if (C == 0 || oh < 1 || ow < 1 || d.images == 0 || d.shift > kMaxShift || d.pool > 2 ||
        (!d.logits && (d.a_out_bits < 1 || d.a_out_bits > kMaxActivationBits)) ||
        (pool != PoolKind::kNone && (d.pool_size < 1 || d.pool_stride < 1 || d.pool_size > oh || d.pool_size > ow)))
        return PostProcessError::kBadDescriptor;
    const std::size_t vectors = static_cast<std::size_t>(oh) * ow * d.images;
    acc_.resize(vectors * C);
    sx_.resize(vectors);
    params_.resize(C * (sizeof(std::int64_t) + 2 * sizeof(std::int32_t)));
    if (!port_.block(tlm::TLM_READ_COMMAND, d.params, params_.data(), params_.size(), delay) ||
        !port_.block(tlm::TLM_READ_COMMAND, d.sx, reinterpret_cast<std::uint8_t*>(sx_.data()),
                     sx_.size() * sizeof(std::int64_t), delay) ||
        !port_.block(tlm::TLM_READ_COMMAND, d.acc, reinterpret_cast<std::uint8_t*>(acc_.data()),
                     acc_.size() * sizeof(std::int64_t), delay))
        return PostProcessError::kRead;
    bias_.resize(C);
    mult_.resize(C);
    mult_x_.resize(C);
    std::memcpy(bias_.data(), params_.data(), C * sizeof(std::int64_t));
    std::memcpy(mult_.data(), params_.data() + C * sizeof(std::int64_t), C * sizeof(std::int32_t));
    std::memcpy(mult_x_.data(), params_.data() + C * (sizeof(std::int64_t) + sizeof(std::int32_t)),
                C * sizeof(std::int32_t));

    std::uint8_t* out_bytes = nullptr;
    std::uint64_t out_len = 0;
    if (d.logits) {
        // int64 values, vector-major, in place of the accumulators.
        for (std::size_t v = 0; v < vectors; ++v)
            for (std::size_t m = 0; m < C; ++m)
                acc_[v * C + m] = affine(acc_[v * C + m], sx_[v], mult_[m], mult_x_[m], bias_[m]);
        out_bytes = reinterpret_cast<std::uint8_t*>(acc_.data());
        out_len = acc_.size() * sizeof(std::int64_t);
    } else {
        const std::size_t px = static_cast<std::size_t>(oh) * ow;
        const int ph = pool == PoolKind::kNone ? oh : pooled_size(oh, d.pool_size, d.pool_stride);
        const int pw = pool == PoolKind::kNone ? ow : pooled_size(ow, d.pool_size, d.pool_stride);
        const std::size_t out_image = C * static_cast<std::size_t>(ph) * pw;
        y_.resize(C * px);
        out_.resize(out_image * d.images);
        for (std::uint32_t img = 0; img < d.images; ++img) {
            for (std::size_t p = 0; p < px; ++p) {
                const std::size_t v = img * px + p;
                for (std::size_t m = 0; m < C; ++m)
                    y_[m * px + p] = static_cast<std::uint8_t>(requantize(
                        affine(acc_[v * C + m], sx_[v], mult_[m], mult_x_[m], bias_[m]), d.shift, d.a_out_bits));
            }
            pool2d(y_.data(), static_cast<int>(C), oh, ow, pool, d.pool_size, d.pool_stride, &out_[img * out_image]);
        }
        out_bytes = out_.data();
        out_len = out_.size();
    }
    const std::uint64_t outputs = vectors * C;
    counters_.outputs += outputs;
    delay += sc_core::sc_time(static_cast<double>((outputs + cfg_.post_process_lanes - 1) / cfg_.post_process_lanes) *
                                  cfg_.clock_ns,
                              sc_core::SC_NS);
    if (!port_.block(tlm::TLM_WRITE_COMMAND, d.dst, out_bytes, out_len, delay)) return PostProcessError::kWrite;
    return PostProcessError::kNone;
}

}  // namespace cimvp
