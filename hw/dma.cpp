#include "hw/dma.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "tlm/error_report.h"

namespace cimvp {

namespace {

using tlmx::Access;
using tlmx::RegisterSpec;

// Bytes from the first to one past the last byte a strided transfer touches; fits
// in 64 bits because rows, strides and row_bytes are 32-bit.
std::uint64_t span(const DmaDescriptor& d, std::uint32_t stride) {
    return static_cast<std::uint64_t>(d.rows - 1) * stride + d.row_bytes;
}

const char* error_name(DmaError e) {
    switch (e) {
        case DmaError::kNone: return "none";
        case DmaError::kDescriptorFetch: return "descriptor fetch";
        case DmaError::kSourceRead: return "source read";
        case DmaError::kDestinationWrite: return "destination write";
        case DmaError::kBadDescriptor: return "bad descriptor";
    }
    return "?";
}

bool wraps(std::uint64_t addr, std::uint64_t len) { return len - 1 > std::numeric_limits<std::uint64_t>::max() - addr; }

}  // namespace

Dma::Dma(sc_core::sc_module_name name, const DmaConfig& cfg)
    : sc_core::sc_module(name),
      regs_socket("regs_socket"),
      bus_socket("bus_socket"),
      cfg_(cfg),
      setup_(cfg.setup_ns, sc_core::SC_NS),
      port_(bus_socket, kMaxBurstBytes, cfg.bytes_per_ns),
      buffer_(kMaxBurstBytes) {
    if (!(cfg_.bytes_per_ns > 0))
        throw std::invalid_argument(std::string(this->name()) + ": bandwidth (bytes_per_ns) must be > 0");
    using namespace dma_regs;
    regs_.set_report(kReportId, this->name());
    regs_.add(RegisterSpec{"ID", kId, Access::kReadOnly, kIdValue});
    regs_.add(RegisterSpec{"DESC_ADDR_LO", kDescAddrLo, Access::kReadWrite, 0});
    regs_.add(RegisterSpec{"DESC_ADDR_HI", kDescAddrHi, Access::kReadWrite, 0});
    regs_.add(RegisterSpec{"CTRL", kCtrl, Access::kWriteOnly, 0, kCtrlStart | kCtrlIm2col}, {},
              [this](std::uint32_t v) {
                  if (v & kCtrlStart) start_requested_ = true;
                  im2col_requested_ = (v & kCtrlIm2col) != 0;
              });
    regs_.add(RegisterSpec{"STATUS", kStatus, Access::kReadOnly, 0, kStatusBusy | kStatusDone | kStatusError});
    regs_.add(RegisterSpec{"ERROR", kError, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"BYTES_LO", kBytesLo, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"BYTES_HI", kBytesHi, Access::kReadOnly, 0});

    regs_socket.register_b_transport(this, &Dma::regs_b_transport);
    regs_socket.register_transport_dbg(this, &Dma::regs_transport_dbg);
}

void Dma::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_vars_.busy = w.declare(scope, "busy", 1);
    wave_vars_.bytes = w.declare(scope, "bytes", 32);
    wave_vars_.total = w.declare(scope, "total_bytes", 64);
}

void Dma::reset_counters() {
    counters_ = {};
    publish_bytes();
}

void Dma::publish_bytes() {
    regs_.set(dma_regs::kBytesLo, static_cast<std::uint32_t>(counters_.bytes));
    regs_.set(dma_regs::kBytesHi, static_cast<std::uint32_t>(counters_.bytes >> 32));
}

void Dma::regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    start_requested_ = false;
    regs_.transport(t, delay);
    if (!start_requested_) return;
    start_requested_ = false;
    // START while running can only come through our own bus (a descriptor aimed at CTRL): ignore it.
    if (!busy_) run(delay);
}

unsigned Dma::regs_transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

void Dma::run(sc_core::sc_time& delay) {
    using namespace dma_regs;
    busy_ = true;
    const sc_core::sc_time started = sc_core::sc_time_stamp() + delay;
    const std::uint64_t bytes_before = counters_.bytes;
    regs_.set(kStatus, kStatusBusy);
    regs_.set(kError, static_cast<std::uint32_t>(DmaError::kNone));
    ++counters_.descriptors;
    // The fetch is issued when the START write lands; setup_ns stands for the fetch and the
    // decode (DmaConfig), so the fetch's own time is inside it.
    const sc_core::sc_time fetch_at = delay;
    delay += setup_;

    const std::uint64_t desc_addr =
        std::uint64_t{regs_.get(kDescAddrHi)} << 32 | std::uint64_t{regs_.get(kDescAddrLo)};
    std::uint8_t raw[sizeof(Im2colDescriptor)];
    const std::uint32_t size = im2col_requested_ ? sizeof(Im2colDescriptor) : sizeof(DmaDescriptor);
    sc_core::sc_time took;
    DmaError err = DmaError::kNone;
    if (port_.access(tlm::TLM_READ_COMMAND, desc_addr, raw, size, fetch_at, took) != tlm::TLM_OK_RESPONSE) {
        err = DmaError::kDescriptorFetch;
    } else if (im2col_requested_) {
        Im2colDescriptor d;
        std::memcpy(&d, raw, sizeof d);  // the platform is little-endian, like the contract
        err = execute(d, delay);
    } else {
        DmaDescriptor d;
        std::memcpy(&d, raw, sizeof d);
        err = execute(d, delay);
    }

    if (err != DmaError::kNone) {
        ++counters_.errors;
        tlmx::report_job_error(kReportId, name(), "descriptor at " + tlmx::hex_address(desc_addr),
                               static_cast<std::uint32_t>(err), error_name(err));
    }
    regs_.set(kError, static_cast<std::uint32_t>(err));
    regs_.set(kStatus, err == DmaError::kNone ? kStatusDone : kStatusError);
    publish_bytes();
    busy_ = false;
    if (wave_) {
        // The whole transfer ran inside this call: its start and end are known now.
        const sc_core::sc_time ended = sc_core::sc_time_stamp() + delay;
        wave_->change(wave_vars_.busy, started, 1);
        wave_->change(wave_vars_.bytes, started, counters_.bytes - bytes_before);
        wave_->change(wave_vars_.busy, ended, 0);
        wave_->change(wave_vars_.total, ended, counters_.bytes);
    }
}

DmaError Dma::execute(const DmaDescriptor& d, sc_core::sc_time& delay) {
    if (d.rows == 0 || d.row_bytes == 0) return DmaError::kBadDescriptor;
    if (d.rows > 1 && (d.src_stride < d.row_bytes || d.dst_stride < d.row_bytes)) return DmaError::kBadDescriptor;
    if (wraps(d.src, span(d, d.src_stride)) || wraps(d.dst, span(d, d.dst_stride))) return DmaError::kBadDescriptor;

    // Back-to-back rows are one linear copy: same bursts, fewer loop turns.
    std::uint64_t rows = d.rows, row_bytes = d.row_bytes;
    if (rows > 1 && d.src_stride == d.row_bytes && d.dst_stride == d.row_bytes) {
        row_bytes *= rows;
        rows = 1;
    }
    for (std::uint64_t r = 0; r < rows; ++r) {
        const std::uint64_t src = d.src + r * d.src_stride;
        const std::uint64_t dst = d.dst + r * d.dst_stride;
        for (std::uint64_t off = 0; off < row_bytes; off += kMaxBurstBytes) {
            const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(kMaxBurstBytes, row_bytes - off));
            // A burst's read and write overlap (the data streams through the engine), so both are issued at
            // the engine's local time; the burst ends when the slower of the two has.
            sc_core::sc_time rd, wr;
            if (port_.access(tlm::TLM_READ_COMMAND, src + off, buffer_.data(), n, delay, rd) != tlm::TLM_OK_RESPONSE) {
                delay += rd;
                return DmaError::kSourceRead;
            }
            if (port_.access(tlm::TLM_WRITE_COMMAND, dst + off, buffer_.data(), n, delay, wr) != tlm::TLM_OK_RESPONSE) {
                delay += std::max(rd, wr);
                return DmaError::kDestinationWrite;
            }
            counters_.bytes += n;
            // The slowest of the two ports and the engine sets the pace.
            delay += std::max({rd, wr, sc_core::sc_time(n / cfg_.bytes_per_ns, sc_core::SC_NS)});
        }
    }
    return DmaError::kNone;
}

DmaError Dma::execute(const Im2colDescriptor& d, sc_core::sc_time& delay) {
    const int C = d.channels, H = d.height, W = d.width, kh = d.kernel_h, kw = d.kernel_w;
    if (C == 0 || H == 0 || W == 0 || kh == 0 || kw == 0 || d.stride == 0 || d.rows == 0 || d.vectors == 0 ||
        H + 2 * d.padding < kh || W + 2 * d.padding < kw || d.first_row + d.rows > C * kh * kw)
        return DmaError::kBadDescriptor;
    const std::uint64_t per_image = static_cast<std::uint64_t>(d.out_h()) * d.out_w();
    const std::uint64_t image_bytes = static_cast<std::uint64_t>(C) * H * W;
    const std::uint64_t first_image = d.first_vector / per_image;
    const std::uint64_t last_image = (static_cast<std::uint64_t>(d.first_vector) + d.vectors - 1) / per_image;
    const std::uint64_t src_bytes = (last_image - first_image + 1) * image_bytes;
    const std::uint64_t dst_bytes = static_cast<std::uint64_t>(d.vectors) * d.rows;
    if (wraps(d.src, (last_image + 1) * image_bytes) || wraps(d.dst, dst_bytes)) return DmaError::kBadDescriptor;

    const int ow = d.out_w();
    // The (c, ky, kx) of each patch row is the same for every vector: split the K index once.
    gather_ky_.resize(d.rows);
    gather_kx_.resize(d.rows);
    gather_plane_.resize(d.rows);
    gather_offset_.resize(d.rows);
    int ky_lo = kh - 1, ky_hi = 0;
    for (int r = 0; r < d.rows; ++r) {
        const int k = d.first_row + r;
        gather_ky_[r] = (k / kw) % kh;
        gather_kx_[r] = k % kw;
        gather_plane_[r] = static_cast<std::size_t>(k / (kh * kw)) * H * W;
        gather_offset_[r] = gather_plane_[r] + static_cast<std::size_t>(gather_ky_[r]) * W + gather_kx_[r];
        ky_lo = std::min(ky_lo, gather_ky_[r]);
        ky_hi = std::max(ky_hi, gather_ky_[r]);
    }
    // Read only the source the vectors touch: of each image, the channels of the patch rows and the
    // input rows under the vectors' output rows (a line-buffer window), into a staging copy of the
    // images' full geometry; blocks that follow each other in memory are read as one.
    gather_src_.resize(src_bytes);
    gather_dst_.assign(dst_bytes, 0);
    const std::uint64_t plane = static_cast<std::uint64_t>(H) * W;
    const std::uint64_t c_lo = static_cast<std::uint64_t>(d.first_row) / (kh * kw);
    const std::uint64_t c_hi = static_cast<std::uint64_t>(d.first_row + d.rows - 1) / (kh * kw);
    const std::uint64_t last_vector = static_cast<std::uint64_t>(d.first_vector) + d.vectors - 1;
    std::uint64_t run_at = 0, run_bytes = 0;  // the pending block, as offsets into the staging copy
    const auto flush = [&] {
        const bool ok = run_bytes == 0 || port_.block(tlm::TLM_READ_COMMAND, d.src + first_image * image_bytes + run_at,
                                                      gather_src_.data() + run_at, run_bytes, delay);
        run_bytes = 0;
        return ok;
    };
    const auto read = [&](std::uint64_t at, std::uint64_t bytes) {
        if (run_bytes > 0 && run_at + run_bytes == at) {
            run_bytes += bytes;
            return true;
        }
        const bool ok = flush();
        run_at = at;
        run_bytes = bytes;
        return ok;
    };
    for (std::uint64_t img = first_image; img <= last_image; ++img) {
        const std::uint64_t v_lo = std::max<std::uint64_t>(d.first_vector, img * per_image) - img * per_image;
        const std::uint64_t v_hi = std::min(last_vector, (img + 1) * per_image - 1) - img * per_image;
        const int y_lo = std::max(0, static_cast<int>(v_lo / ow) * d.stride - d.padding + ky_lo);
        const int y_hi = std::min(H - 1, static_cast<int>(v_hi / ow) * d.stride - d.padding + ky_hi);
        if (y_lo > y_hi) continue;  // every touched row is padding
        const std::uint64_t base = (img - first_image) * image_bytes;
        const std::uint64_t rows = static_cast<std::uint64_t>(y_hi - y_lo + 1) * W;
        bool ok = true;
        if (rows == plane)
            ok = read(base + c_lo * plane, (c_hi - c_lo + 1) * plane);
        else
            for (std::uint64_t c = c_lo; c <= c_hi && ok; ++c)
                ok = read(base + c * plane + static_cast<std::uint64_t>(y_lo) * W, rows);
        if (!ok) return DmaError::kSourceRead;
    }
    if (!flush()) return DmaError::kSourceRead;
    for (std::uint32_t i = 0; i < d.vectors; ++i) {
        const std::uint64_t v = static_cast<std::uint64_t>(d.first_vector) + i;
        const std::uint8_t* img = &gather_src_[(v / per_image - first_image) * image_bytes];
        const int pixel = static_cast<int>(v % per_image);
        const int y0 = (pixel / ow) * d.stride - d.padding, x0 = (pixel % ow) * d.stride - d.padding;
        std::uint8_t* out = &gather_dst_[static_cast<std::uint64_t>(i) * d.rows];
        if (y0 >= 0 && y0 + kh <= H && x0 >= 0 && x0 + kw <= W) {  // the whole window inside: no padding checks
            const std::uint8_t* corner = img + static_cast<std::size_t>(y0) * W + x0;
            for (int r = 0; r < d.rows; ++r) out[r] = corner[gather_offset_[r]];
            continue;
        }
        for (int r = 0; r < d.rows; ++r) {
            const int y = y0 + gather_ky_[r], x = x0 + gather_kx_[r];
            if (y >= 0 && y < H && x >= 0 && x < W) out[r] = img[gather_plane_[r] + static_cast<std::size_t>(y) * W + x];
        }
    }
    if (!port_.block(tlm::TLM_WRITE_COMMAND, d.dst, gather_dst_.data(), dst_bytes, delay))
        return DmaError::kDestinationWrite;
    counters_.bytes += dst_bytes;
    return DmaError::kNone;
}

}  // namespace cimvp
