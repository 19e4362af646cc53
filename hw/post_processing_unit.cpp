#include "hw/post_processing_unit.h"

#include <cstring>

#include "hw/engine_registers.h"
#include "sw/contract/post_processing.h"
#include "sw/contract/tensor_ops.h"
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
    engine_regs::add(regs_, kIdValue, &start_requested_, kCtrlTensorOp, &ctrl_);
    regs_.add(RegisterSpec{"OUTPUTS", kOutputs, Access::kReadOnly, 0},
              [this](std::uint32_t) { return static_cast<std::uint32_t>(counters_.outputs); });
    regs_.add(RegisterSpec{"TENSOR_JOBS", kTensorJobs, Access::kReadOnly, 0},
              [this](std::uint32_t) { return static_cast<std::uint32_t>(counters_.tensor_jobs); });
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
    if (ctrl_ & ppu_regs::kCtrlTensorOp) {
        TensorOpDescriptor t;
        if (!port_.block(tlm::TLM_READ_COMMAND, at, reinterpret_cast<std::uint8_t*>(&t), sizeof t, delay))
            return PostProcessError::kDescriptorFetch;
        ++counters_.tensor_jobs;
        return execute_tensor(t, delay);
    }
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
        (d.logits && d.dst_image_stride != 0) ||
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
    std::uint64_t image_bytes = 0;
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
        if (d.dst_image_stride != 0 && d.dst_image_stride < out_image) return PostProcessError::kBadDescriptor;
        image_bytes = out_image;
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
    if (d.logits ? !port_.block(tlm::TLM_WRITE_COMMAND, d.dst, out_bytes, out_len, delay)
                 : !write_images(d.dst, out_bytes, image_bytes, d.images, d.dst_image_stride, delay))
        return PostProcessError::kWrite;
    return PostProcessError::kNone;
}

bool PostProcessingUnit::write_images(std::uint64_t dst, std::uint8_t* data, std::uint64_t bytes,
                                      std::uint32_t images, std::uint64_t stride, sc_core::sc_time& delay) {
    if (stride == 0 || stride == bytes)
        return port_.block(tlm::TLM_WRITE_COMMAND, dst, data, bytes * images, delay);
    for (std::uint32_t i = 0; i < images; ++i)
        if (!port_.block(tlm::TLM_WRITE_COMMAND, dst + i * stride, data + i * bytes, bytes, delay)) return false;
    return true;
}

PostProcessError PostProcessingUnit::execute_tensor(const TensorOpDescriptor& d, sc_core::sc_time& delay) {
    const auto op = static_cast<TensorOp>(d.op);
    const std::size_t C = d.channels, H = d.height, W = d.width, images = d.images;
    const int pool = d.pool_kind();
    const bool known = op == TensorOp::kAdd || op == TensorOp::kScale || op == TensorOp::kGlobalAvg;
    if (!known || C == 0 || H == 0 || W == 0 || images == 0 || d.shift > kMaxShift || d.a_out_bits < 1 ||
        d.a_out_bits > kMaxActivationBits || pool > 2 || ((d.pool & ~3u) != 0 && pool == 0) ||
        (pool != 0 && (op != TensorOp::kScale || static_cast<std::size_t>(d.pool_size()) > H ||
                       static_cast<std::size_t>(d.pool_size()) > W)))
        return PostProcessError::kBadDescriptor;
    const auto kind = static_cast<PoolKind>(pool);
    const std::size_t map = C * H * W;
    const int ph = pool ? pooled_size(static_cast<int>(H), d.pool_size(), d.pool_stride()) : static_cast<int>(H);
    const int pw = pool ? pooled_size(static_cast<int>(W), d.pool_size(), d.pool_stride()) : static_cast<int>(W);
    const std::size_t out_image = op == TensorOp::kGlobalAvg ? C : C * static_cast<std::size_t>(ph) * pw;
    if (d.dst_image_stride != 0 && d.dst_image_stride < out_image) return PostProcessError::kBadDescriptor;
    a_.resize(map * images);
    if (!port_.block(tlm::TLM_READ_COMMAND, d.src_a, a_.data(), a_.size(), delay)) return PostProcessError::kRead;
    if (op == TensorOp::kAdd) {
        b_.resize(map * images);
        if (!port_.block(tlm::TLM_READ_COMMAND, d.src_b, b_.data(), b_.size(), delay)) return PostProcessError::kRead;
    }
    TensorOpParams p;
    p.mult_a = d.mult_a;
    p.bias_a = d.bias_a;
    p.mult_b = d.mult_b;
    p.bias_b = d.bias_b;
    p.shift = d.shift;
    p.a_out_bits = d.a_out_bits;
    out_.resize(out_image * images);
    y_.resize(map);
    std::uint64_t outputs = 0;
    for (std::size_t i = 0; i < images; ++i) {
        const std::uint8_t* a = &a_[i * map];
        std::uint8_t* o = &out_[i * out_image];
        switch (op) {
            case TensorOp::kAdd:
                tensor_add(a, &b_[i * map], map, p, o);
                outputs += map;
                break;
            case TensorOp::kScale:
                tensor_scale(a, map, p, pool ? y_.data() : o);
                if (pool) pool2d(y_.data(), static_cast<int>(C), static_cast<int>(H), static_cast<int>(W), kind,
                                 d.pool_size(), d.pool_stride(), o);
                outputs += map;
                break;
            case TensorOp::kGlobalAvg:
                tensor_global_avg(a, static_cast<int>(C), static_cast<int>(H * W), p, o);
                outputs += C;
                break;
        }
    }
    counters_.outputs += outputs;
    // The lanes take one input element each per cycle (an add's pair is one element; a global
    // average sums its map).
    const std::uint64_t elements = map * images;
    delay += sc_core::sc_time(
        static_cast<double>((elements + cfg_.post_process_lanes - 1) / cfg_.post_process_lanes) * cfg_.clock_ns,
        sc_core::SC_NS);
    if (!write_images(d.dst, out_.data(), out_image, d.images, d.dst_image_stride, delay))
        return PostProcessError::kWrite;
    return PostProcessError::kNone;
}

}  // namespace cimvp
