#include "hw/swis_pe_array.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "hw/address_map.h"
#include "tlm/error_report.h"

namespace cimvp {

using tlmx::Access;
using tlmx::RegisterSpec;

namespace {

constexpr std::uint64_t kWindowAlignBytes = 0x1000;
constexpr int kMaxN = swis::kShiftPositions;          // N per filter tile: 0..8
constexpr int kTopBit = SwisPe::kActivationBits - 1;  // Act and FXP take the whole int8: bits 7..0
constexpr int kLanes = SwisPe::kLanes;


// [addr, addr + count * unit) stays below 2^64.
bool range_ok(std::uint64_t addr, std::uint64_t count, std::uint64_t unit) {
    std::uint64_t len = 0, end = 0;
    return !__builtin_mul_overflow(count, unit, &len) && !__builtin_add_overflow(addr, len, &end);
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

const char* error_name(PeArrayError e) {
    switch (e) {
        case PeArrayError::kNone: return "none";
        case PeArrayError::kDescriptorFetch: return "descriptor fetch";
        case PeArrayError::kRead: return "read";
        case PeArrayError::kWrite: return "write";
        case PeArrayError::kBadDescriptor: return "bad descriptor";
        case PeArrayError::kBufferOverflow: return "buffer overflow";
        case PeArrayError::kWeightRange: return "weight range";
    }
    return "?";
}

}  // namespace

PeArrayWindows pe_array_windows(const PeArrayConfig& cfg) {
    PeArrayWindows w;
    w.act_size = cfg.act_buffer_bytes;
    w.weight_size = cfg.weight_buffer_bytes;
    w.out_size = cfg.out_buffer_bytes;
    w.act = 0;
    w.weight = align_up(w.act + w.act_size, kWindowAlignBytes);
    w.out = align_up(w.weight + w.weight_size, kWindowAlignBytes);
    w.size = w.out + w.out_size;
    return w;
}

SwisPeArray::SwisPeArray(sc_core::sc_module_name name, const PeArrayConfig& cfg, const DigitalConfig& digital)
    : sc_module(name),
      regs_socket("regs_socket"),
      buffer_socket("buffer_socket"),
      bus_socket("bus_socket"),
      cfg_(cfg),
      clock_(digital.clock_ns, sc_core::SC_NS),
      win_(pe_array_windows(cfg)),
      port_(bus_socket, kMaxBurstBytes, cfg.bytes_per_ns) {
    const std::string me = this->name();
    if (cfg_.rows < 1 || cfg_.cols < 1) throw std::invalid_argument(me + ": rows and cols must be >= 1");
    if (!(cfg_.bytes_per_ns > 0)) throw std::invalid_argument(me + ": bytes_per_ns must be > 0");
    if (!(digital.clock_ns > 0)) throw std::invalid_argument(me + ": clock_ns must be > 0");
    using namespace pe_regs;
    regs_.set_report(kReportId, me);
    engine_regs::add(regs_, kIdValue, &start_requested_);
    regs_.add(RegisterSpec{"GEOMETRY", kGeometry, Access::kReadOnly,
                           static_cast<std::uint32_t>(cfg_.rows) | static_cast<std::uint32_t>(cfg_.cols) << 16});
    regs_.add(RegisterSpec{"MODE", kMode, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"COMPUTE_CYCLES_LO", kComputeCyclesLo, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"COMPUTE_CYCLES_HI", kComputeCyclesHi, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"TRANSFER_CYCLES_LO", kTransferCyclesLo, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"TRANSFER_CYCLES_HI", kTransferCyclesHi, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PE_CYCLES_LO", kPeCyclesLo, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"PE_CYCLES_HI", kPeCyclesHi, Access::kReadOnly, 0});
    regs_.add(RegisterSpec{"JOBS", kJobs, Access::kReadOnly, 0});
    regs_.set_access_latency(clock_);
    regs_socket.register_b_transport(this, &SwisPeArray::regs_b_transport);
    regs_socket.register_transport_dbg(this, &SwisPeArray::regs_dbg);
    buffer_socket.register_b_transport(this, &SwisPeArray::buffer_b_transport);
    buffer_socket.register_transport_dbg(this, &SwisPeArray::buffer_dbg);

    act_buf_.assign(win_.act_size, 0);
    weight_buf_.assign(win_.weight_size, 0);
    out_buf_.assign(win_.out_size, 0);
}

double SwisPeArray::pj_per_cycle(PeMode m) const { return cfg_.pj_per_cycle(m); }

void SwisPeArray::meter(EnergyMeter& m) const {
    for (int mode = 0; mode < kPeModes; ++mode)
        m.add(&EnergyBreakdown::pe, counters_.pe_cycles[static_cast<std::size_t>(mode)],
              pj_per_cycle(static_cast<PeMode>(mode)));
    m.add(&EnergyBreakdown::buffers, counters_.buffer_bytes_read + counters_.buffer_bytes_written,
          cfg_.buffer_pj_per_byte);
}

void SwisPeArray::reset_counters() {
    counters_ = {};
    publish();
}

void SwisPeArray::publish() {
    std::uint64_t pe = 0;
    for (auto c : counters_.pe_cycles) pe += c;
    regs_.set(pe_regs::kPeCyclesLo, static_cast<std::uint32_t>(pe));
    regs_.set(pe_regs::kPeCyclesHi, static_cast<std::uint32_t>(pe >> 32));
    regs_.set(pe_regs::kJobs, static_cast<std::uint32_t>(counters_.jobs));
}

// ---------------------------------------------------------------- bus targets

void SwisPeArray::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope) {
    wave_ = &w;
    wave_vars_.busy = w.declare(scope, "busy", 1);
    wave_vars_.mode = w.declare(scope, "mode", 3);
    wave_vars_.cycles = w.declare(scope, "cycles", 64);
}

void SwisPeArray::regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    start_requested_ = false;
    regs_.transport(t, delay);
    if (!start_requested_ || !t.is_response_ok()) return;
    start_requested_ = false;
    ++counters_.jobs;
    last_ = JobStats{};
    job_start_ = delay;
    sc_core::sc_time transfer = sc_core::SC_ZERO_TIME;
    const PeArrayError e = run(transfer);
    if (e != PeArrayError::kNone) {
        ++counters_.errors;
        tlmx::report_job_error(kReportId, name(),
                               "descriptor at " + tlmx::hex_address(engine_regs::descriptor_address(regs_)),
                               static_cast<std::uint32_t>(e), error_name(e));
    }
    last_.error = e;
    last_.transfer_ns = transfer.to_seconds() * 1e9;
    counters_.transfer_ns += last_.transfer_ns;
    counters_.compute_cycles += last_.compute_cycles;
    const sc_core::sc_time started = sc_core::sc_time_stamp() + delay;
    delay += transfer + clock_ * static_cast<double>(last_.compute_cycles);
    if (wave_) {
        wave_->change(wave_vars_.busy, started, 1);
        wave_->change(wave_vars_.mode, started, static_cast<std::uint64_t>(last_.mode));
        wave_->change(wave_vars_.cycles, started, last_.compute_cycles);
        wave_->change(wave_vars_.busy, sc_core::sc_time_stamp() + delay, 0);
    }
    if (datapath_ && datapath_->supports(last_.mode) && e == PeArrayError::kNone)
        datapath_->job_done(sc_core::sc_time_stamp() + delay);

    using namespace pe_regs;
    // Whole clocks: a partly used last clock counts.
    const auto transfer_cycles = static_cast<std::uint64_t>(std::max(0.0, std::ceil(transfer / clock_ - 1e-9)));
    regs_.set(kMode, static_cast<std::uint32_t>(last_.mode));
    regs_.set(kComputeCyclesLo, static_cast<std::uint32_t>(last_.compute_cycles));
    regs_.set(kComputeCyclesHi, static_cast<std::uint32_t>(last_.compute_cycles >> 32));
    regs_.set(kTransferCyclesLo, static_cast<std::uint32_t>(transfer_cycles));
    regs_.set(kTransferCyclesHi, static_cast<std::uint32_t>(transfer_cycles >> 32));
    publish();
    regs_.set(kError, static_cast<std::uint32_t>(e));
    regs_.set(kStatus, e == PeArrayError::kNone ? kStatusDone : kStatusError);
}

const std::uint8_t* SwisPeArray::window_bytes(std::uint64_t offset, std::uint64_t len) const {
    const auto inside = [&](std::uint64_t base, std::uint64_t size) {
        return offset >= base && offset - base <= size && len <= size - (offset - base);
    };
    if (len == 0) return nullptr;
    if (inside(win_.act, win_.act_size)) return act_buf_.data() + (offset - win_.act);
    if (inside(win_.weight, win_.weight_size)) return weight_buf_.data() + (offset - win_.weight);
    if (inside(win_.out, win_.out_size)) return out_buf_.data() + (offset - win_.out);
    return nullptr;
}

void SwisPeArray::buffer_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    // The checks of a memory (hw/memory.cpp), in its order; the window is read-only.
    const std::uint64_t len = t.get_data_length();
    const std::uint8_t* src = window_bytes(t.get_address(), len);
    if (!src)
        return tlmx::reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, kReportId, name(),
                            "not inside one buffer of the window");
    if (t.get_byte_enable_ptr())
        return tlmx::reject(t, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, kReportId, name(),
                            "byte enables are not supported");
    if (t.get_streaming_width() < len)
        return tlmx::reject(t, tlm::TLM_BURST_ERROR_RESPONSE, kReportId, name(), "streaming is not supported");
    if (t.is_write())
        return tlmx::reject(t, tlm::TLM_COMMAND_ERROR_RESPONSE, kReportId, name(), "the buffer window is read-only");
    if (t.is_read()) {
        std::memmove(t.get_data_ptr(), src, len);  // the array may read its own window into a buffer
        counters_.buffer_bytes_read += len;
        delay += clock_ + sc_core::sc_time(static_cast<double>(len) / cfg_.bytes_per_ns, sc_core::SC_NS);
    }
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned SwisPeArray::buffer_dbg(tlm::tlm_generic_payload& t) {
    if (!t.is_read()) return 0;
    const std::uint8_t* src = window_bytes(t.get_address(), t.get_data_length());
    if (!src) return 0;
    std::memcpy(t.get_data_ptr(), src, t.get_data_length());
    return t.get_data_length();
}

// ---------------------------------------------------------------- a job

bool SwisPeArray::block(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint64_t len,
                        sc_core::sc_time& transfer) {
    // The job runs fill, compute, drain in order: a burst is issued after the transfers and the
    // array cycles before it, at that offset from when the START write landed.
    sc_core::sc_time local = job_start_ + transfer + clock_ * static_cast<double>(last_.compute_cycles);
    const sc_core::sc_time issued = local;
    const bool ok = port_.block(cmd, addr, data, len, local);
    transfer += local - issued;
    return ok;
}

PeArrayError SwisPeArray::run(sc_core::sc_time& transfer) {
    Job job;
    const PeArrayError e = load(job, transfer);
    if (e != PeArrayError::kNone) return e;
    return execute(job, transfer);
}

PeArrayError SwisPeArray::load(Job& job, sc_core::sc_time& transfer) {
    const std::uint64_t at = engine_regs::descriptor_address(regs_);
    PeArrayDescriptor& d = job.d;
    if (!range_ok(at, 1, kDescriptorBytes) ||
        !block(tlm::TLM_READ_COMMAND, at, reinterpret_cast<std::uint8_t*>(&d), kDescriptorBytes, transfer))
        return PeArrayError::kDescriptorFetch;
    counters_.bus_bytes_read += kDescriptorBytes;
    if (valid_pe_mode(d.mode)) last_.mode = static_cast<PeMode>(d.mode);
    if (d.vectors == 0 || d.filters == 0 || d.channels == 0 || d.kernel_h == 0 || d.kernel_w == 0 ||
        !valid_pe_mode(d.mode) || (d.mode == static_cast<std::uint8_t>(PeMode::kWgtSerial) && d.wgt_msb > kTopBit))
        return PeArrayError::kBadDescriptor;
    job.mode = static_cast<PeMode>(d.mode);
    const std::uint64_t khw = std::uint64_t{d.kernel_h} * d.kernel_w;
    job.K = std::uint64_t{d.channels} * khw;
    job.G = ceil_div(d.channels, kLanes) * khw;
    job.rec = static_cast<std::uint64_t>(record_bytes(job.mode));
    if (!range_ok(d.act, d.vectors, job.K) || !range_ok(d.weights, std::uint64_t{d.filters} * job.G, job.rec) ||
        !range_ok(d.out, std::uint64_t{d.vectors} * d.filters, kAccBytes))
        return PeArrayError::kBadDescriptor;

    const std::uint64_t tiles = ceil_div(d.filters, static_cast<std::uint64_t>(cfg_.cols));
    job.tile_n.resize(tiles);
    if (!range_ok(at + kDescriptorBytes, 1, tiles) ||
        !block(tlm::TLM_READ_COMMAND, at + kDescriptorBytes, job.tile_n.data(), tiles, transfer))
        return PeArrayError::kDescriptorFetch;
    counters_.bus_bytes_read += tiles;
    for (const std::uint8_t n : job.tile_n) {
        if (n > kMaxN || (job.mode == PeMode::kWgtSerial && n > d.wgt_msb + 1)) return PeArrayError::kBadDescriptor;
    }
    return PeArrayError::kNone;
}

PeArrayError SwisPeArray::execute(const Job& job, sc_core::sc_time& transfer) {
    const PeArrayDescriptor& d = job.d;
    const auto rows = static_cast<std::uint64_t>(cfg_.rows), cols = static_cast<std::uint64_t>(cfg_.cols);
    const std::uint64_t V = d.vectors, M = d.filters;
    if (datapath_ && !datapath_->supports(job.mode)) ++counters_.datapath_bypassed_jobs;
    // Chunks: as many whole pixel tiles and filter tiles as the buffers hold (all of them if they fit).
    const std::uint64_t tile_pixels = std::min(rows, V);
    const std::uint64_t cap_v = win_.act_size / job.K;
    const std::uint64_t cap_f =
        std::min(win_.weight_size / (job.G * job.rec), win_.out_size / (tile_pixels * kAccBytes));
    const std::uint64_t vchunk = cap_v >= V ? V : cap_v / rows * rows;
    const std::uint64_t fchunk = cap_f >= M ? M : cap_f / cols * cols;
    const PeChunkBytes least = pe_min_chunk_bytes(rows, cols, job.K, job.G, job.rec, V, M);
    if (win_.act_size < least.act || win_.weight_size < least.weights || win_.out_size < least.out)
        return PeArrayError::kBufferOverflow;  // vchunk or fchunk would be 0

    for (std::uint64_t f0 = 0; f0 < M; f0 += fchunk) {
        const std::uint64_t f1 = std::min(M, f0 + fchunk);
        const PeArrayError e = load_weights(job, f0, f1, transfer);
        if (e != PeArrayError::kNone) return e;
        for (std::uint64_t v0 = 0; v0 < V; v0 += vchunk) {
            const std::uint64_t v1 = std::min(V, v0 + vchunk);
            const std::uint64_t act_bytes = (v1 - v0) * job.K;
            if (!block(tlm::TLM_READ_COMMAND, d.act + v0 * job.K, act_buf_.data(), act_bytes, transfer))
                return PeArrayError::kRead;
            ++last_.act_passes;
            counters_.bus_bytes_read += act_bytes;
            counters_.buffer_bytes_written += act_bytes;

            for (std::uint64_t p0 = v0; p0 < v1; p0 += rows) {
                const int pixels = static_cast<int>(std::min(rows, v1 - p0));
                gather(job, p0 - v0, pixels);
                for (std::uint64_t fc0 = f0; fc0 < f1; fc0 += cols) {
                    const int filters = static_cast<int>(std::min(cols, f1 - fc0));
                    compute_tile(job, pixels, f0, fc0, filters, f1 - f0);
                }
                // Drain the pixel tile: one block when the chunk holds every filter, else a row per pixel.
                const std::uint64_t row_bytes = (f1 - f0) * kAccBytes;
                const bool whole = f0 == 0 && f1 == M;
                const int blocks = whole ? 1 : pixels;
                const std::uint64_t block_bytes = whole ? row_bytes * static_cast<std::uint64_t>(pixels) : row_bytes;
                for (int b = 0; b < blocks; ++b) {
                    const auto r = static_cast<std::uint64_t>(b);
                    const std::uint64_t dst = d.out + ((p0 + r) * M + f0) * kAccBytes;
                    if (!block(tlm::TLM_WRITE_COMMAND, dst, out_buf_.data() + r * row_bytes, block_bytes,
                                     transfer))
                        return PeArrayError::kWrite;
                    counters_.bus_bytes_written += block_bytes;
                    counters_.buffer_bytes_read += block_bytes;
                }
            }
        }
    }
    return PeArrayError::kNone;
}

PeArrayError SwisPeArray::load_weights(const Job& job, std::uint64_t f0, std::uint64_t f1, sc_core::sc_time& transfer) {
    const PeArrayDescriptor& d = job.d;
    const std::uint64_t per_filter = job.G * job.rec;
    const std::uint64_t bytes = (f1 - f0) * per_filter;
    if (!block(tlm::TLM_READ_COMMAND, d.weights + f0 * per_filter, weight_buf_.data(), bytes, transfer))
        return PeArrayError::kRead;
    ++last_.weight_passes;
    counters_.bus_bytes_read += bytes;
    counters_.buffer_bytes_written += bytes;

    // The weight unit decodes the records for the PEs and checks them against their tile's N.
    groups_.resize((f1 - f0) * job.G);
    const auto cols = static_cast<std::uint64_t>(cfg_.cols);
    for (std::uint64_t f = f0; f < f1; ++f) {
        const int n = job.tile_n[f / cols];
        for (std::uint64_t g = 0; g < job.G; ++g) {
            const std::uint64_t i = (f - f0) * job.G + g;
            const std::uint8_t* rec = weight_buf_.data() + i * job.rec;
            swis::Group& grp = groups_[i];
            bool ok = false;
            switch (job.mode) {
                case PeMode::kSingleShift:
                case PeMode::kDoubleShift:
                    ok = unpack_swis_record(rec, grp) && grp.n <= n;
                    break;
                case PeMode::kWgtSerial:
                    ok = int8_group(reinterpret_cast<const std::int8_t*>(rec), d.wgt_msb, n, grp);
                    break;
                case PeMode::kActSerial:
                case PeMode::kFixedPoint:
                    ok = int8_group(reinterpret_cast<const std::int8_t*>(rec), kTopBit, kMaxN, grp);
                    break;
            }
            if (!ok) return PeArrayError::kWeightRange;
        }
    }
    // The weights each group encodes, per lane, for compute_tile.
    lanes_.resize(groups_.size() * kLanes);
    for (std::size_t i = 0; i < groups_.size(); ++i)
        for (int l = 0; l < kLanes; ++l) lanes_[i * kLanes + static_cast<std::size_t>(l)] = groups_[i].weight(l);
    return PeArrayError::kNone;
}

void SwisPeArray::gather(const Job& job, std::uint64_t first, int count) {
    // Group g = (ky, kx, channel group cg) in [ky][kx][cg] order; lane i is channel 4 cg + i,
    // at byte c * kh * kw + ky * kw + kx of the im2col vector; channels past C are 0.
    const PeArrayDescriptor& d = job.d;
    const std::uint64_t cgroups = ceil_div(d.channels, kLanes), khw = std::uint64_t{d.kernel_h} * d.kernel_w;
    gathered_.resize(static_cast<std::size_t>(count) * job.G * kLanes);
    std::uint8_t* out = gathered_.data();
    for (int r = 0; r < count; ++r) {
        const std::uint8_t* x = act_buf_.data() + (first + static_cast<std::uint64_t>(r)) * job.K;
        for (std::uint64_t pos = 0; pos < khw; ++pos) {
            for (std::uint64_t cg = 0; cg < cgroups; ++cg) {
                for (int i = 0; i < kLanes; ++i) {
                    const std::uint64_t c = cg * kLanes + static_cast<std::uint64_t>(i);
                    *out++ = c < d.channels ? x[c * khw + pos] : 0;
                }
            }
        }
    }
}

void SwisPeArray::compute_tile(const Job& job, int pixels, std::uint64_t f0, std::uint64_t fc0, int filters,
                               std::uint64_t chunk_filters) {
    const auto cols = static_cast<std::uint64_t>(cfg_.cols);
    const int n = job.tile_n[fc0 / cols];
    const std::uint64_t G = job.G;
    // Each PE ends a group with sum_i a_i * w_i over the weights its group encodes (the
    // cycle-by-cycle SwisPe steps to exactly that; test_swis_pe_array checks it), so the
    // weight fill decodes every group once (lanes_) and each PE takes its group in one step.
    // "Act" sees only the top n bits of each activation.
    const int drop = job.mode == PeMode::kActSerial ? SwisPe::kActivationBits - n : 0;
    const std::uint64_t len = G * kLanes;
    SwisPeDatapath* const datapath = datapath_ && datapath_->supports(job.mode) ? datapath_ : nullptr;
    // Lanes past the last channel carry zero weights: leave them out of the sums.
    live_.clear();
    for (std::uint64_t k = 0; k < len; ++k)
        if ((k / kLanes % ceil_div(job.d.channels, kLanes)) * kLanes + k % kLanes < job.d.channels) live_.push_back(k);
    for (int r = 0; r < pixels; ++r) {
        const std::uint8_t* a = gathered_.data() + static_cast<std::uint64_t>(r) * len;
        for (int c = 0; c < filters; ++c) {
            const std::int32_t* w = &lanes_[(fc0 + static_cast<std::uint64_t>(c) - f0) * len];
            std::int64_t acc = 0;
            if (drop == 0) {
                for (const std::uint64_t k : live_) acc += static_cast<std::int64_t>(a[k]) * w[k];
            } else if (drop < SwisPe::kActivationBits) {
                for (const std::uint64_t k : live_) acc += static_cast<std::int64_t>((a[k] >> drop) << drop) * w[k];
            }
            if (datapath) {
                const std::int64_t theirs = datapath->run_output(
                    job.mode, n, a, &groups_[(fc0 + static_cast<std::uint64_t>(c) - f0) * G], G);
                ++counters_.datapath_outputs;
                counters_.datapath_mismatches += theirs != acc;
                acc = theirs;
            }
            std::memcpy(out_buf_.data() + (static_cast<std::uint64_t>(r) * chunk_filters + (fc0 - f0) +
                                           static_cast<std::uint64_t>(c)) *
                                              kAccBytes,
                        &acc, sizeof acc);
        }
    }
    // Output stationary: the tile takes the contract's tile cycles; each of its busy PEs holds
    // a group for pe_cycles_per_group of them.
    const std::uint64_t busy = static_cast<std::uint64_t>(pixels) * static_cast<std::uint64_t>(filters);
    const auto cpg = static_cast<std::uint64_t>(pe_cycles_per_group(job.mode, n));
    last_.compute_cycles += pe_tile_cycles(job.mode, n, G, cfg_.rows, cfg_.cols);
    last_.pe_cycles += busy * G * cpg;
    counters_.pe_cycles[static_cast<std::size_t>(job.mode)] += busy * G * cpg;
    counters_.macs += busy * job.K;
    counters_.buffer_bytes_read += static_cast<std::uint64_t>(pixels) * job.K +        // activations, once per tile
                                   static_cast<std::uint64_t>(filters) * G * job.rec;  // weight records
    counters_.buffer_bytes_written += busy * kAccBytes;
}

}  // namespace cimvp
