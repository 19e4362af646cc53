#include "hw/shift_add_accumulator.h"

#include <algorithm>
#include <cstring>

#include "hw/address_map.h"
#include "sw/contract/numerics.h"
#include "tlm/cim_read_extension.h"
#include "tlm/error_report.h"
#include "tlm/window_access.h"

namespace cimvp {

using tlmx::CimReadContext;
using tlmx::CimReadExtension;

ShiftAddAccumulator::ShiftAddAccumulator(sc_core::sc_module_name name, const DigitalConfig& digital,
                                         const MemoryConfig& buffer, int cols, int frac_bits)
    : sc_module(name),
      in_socket("in_socket"),
      bus_socket("bus_socket"),
      digital_(digital),
      buffer_cfg_(buffer),
      frac_bits_(frac_bits),
      fx_(cols, 0),
      buffer_(buffer.size_bytes / kAccEntryBytes, 0),
      scale_(cols, 1),
      clock_(digital.clock_ns, sc_core::SC_NS) {
    in_socket.register_b_transport(this, &ShiftAddAccumulator::accumulate);
    bus_socket.register_b_transport(this, &ShiftAddAccumulator::bus_access);
    bus_socket.register_transport_dbg(this, &ShiftAddAccumulator::bus_dbg);
}

sc_core::sc_time ShiftAddAccumulator::buffer_time(std::uint64_t bytes) const {
    return sc_core::sc_time(buffer_cfg_.latency_ns + static_cast<double>(bytes) / buffer_cfg_.bytes_per_ns,
                            sc_core::SC_NS);
}

void ShiftAddAccumulator::accumulate(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    CimReadExtension* ext = nullptr;
    t.get_extension(ext);
    if (!ext) return tlmx::missing_extension(t, kReportId, name());
    const CimReadContext& ctx = ext->ctx;
    if (ctx.outs < 0 || ctx.outs > static_cast<int>(fx_.size()) || ctx.slices < 1 || ctx.steps < 1 ||
        ctx.cols != ctx.outs * numerics::cols_per_output(ctx.slices, ctx.differential))
        return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(), "a read context it cannot add up");
    const std::size_t stride = t.get_data_length() / sizeof(std::int64_t) / ctx.steps;
    if (stride < static_cast<std::size_t>(ctx.cols))
        return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(), "shorter data than the columns");
    const int stride_slots = ctx.outs + (ctx.emit_sum ? 1 : 0);
    const std::uint64_t first = static_cast<std::uint64_t>(ctx.out_slot) * stride_slots;
    if (first + stride_slots > buffer_.size()) {
        ++counters_.overflow_errors;
        return tlmx::reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, kReportId, name(),
                            "the vector's slot is past the buffer");
    }
    // Every read: shift each column's value by its step and slice and add it to its output (subtract
    // it, for a differential output's negative columns).
    const auto* value = reinterpret_cast<const std::int64_t*>(t.get_data_ptr());
    for (int s = 0; s < ctx.steps; ++s) {
        if (ctx.zero_steps & (1u << s)) continue;
        numerics::shift_add_step(value + s * stride, ctx.outs, ctx.slices, ctx.differential, s, ctx.dac_bits,
                                 ctx.cell_bits, fx_.data());
    }
    counters_.shift_adds += static_cast<std::uint64_t>(ctx.steps) * ctx.cols;
    // Then finish: round, scale by weight and multiplier, remove the offset, store.
    for (int o = 0; o < ctx.outs; ++o) {
        buffer_[first + o] =
            scale_[o] * numerics::finish_partial(fx_[o], frac_bits_, ctx.weight_scale, ctx.offset, ctx.input_sum);
        fx_[o] = 0;
    }
    if (ctx.emit_sum) buffer_[first + ctx.outs] = ctx.input_sum;
    counters_.finishes += static_cast<std::uint64_t>(ctx.outs);
    const std::uint64_t bytes = static_cast<std::uint64_t>(stride_slots) * kAccEntryBytes;
    counters_.buffer_bytes_written += bytes;
    // One adder per column: a clock per read, then one to finish, then the buffer write.
    delay += (ctx.steps + 1) * clock_ + buffer_time(bytes);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

void ShiftAddAccumulator::bus_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const std::uint64_t size = buffer_size();
    const std::uint64_t scale_bytes = scale_.size() * kAccEntryBytes;
    if (!tlmx::accept_window_access(t, 2 * size + scale_bytes, kReportId, name())) return;
    const std::uint64_t addr = t.get_address();
    const unsigned len = t.get_data_length();
    auto* bytes = reinterpret_cast<unsigned char*>(buffer_.data());
    // An access stays inside one of the three parts of the window.
    const auto part = [&](std::uint64_t a) { return a < size ? 0 : (a < 2 * size ? 1 : 2); };
    if (len == 0 || part(addr) != part(addr + len - 1))
        return tlmx::reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, kReportId, name(),
                            "empty, or across the buffer, its accumulate alias and the multipliers");
    if (addr >= 2 * size) {
        auto* table = reinterpret_cast<unsigned char*>(scale_.data());
        if (t.is_write()) {
            std::memcpy(table + (addr - 2 * size), t.get_data_ptr(), len);
            counters_.buffer_bytes_written += len;
        } else if (t.is_read()) {
            std::memcpy(t.get_data_ptr(), table + (addr - 2 * size), len);
            counters_.buffer_bytes_read += len;
        }
        delay += buffer_time(len);
    } else if (addr >= size) {
        // Accumulate alias: whole, aligned int64 entries only; read-modify-write.
        if (!t.is_write() || addr % kAccEntryBytes || len % kAccEntryBytes)
            return tlmx::reject(t, t.is_write() ? tlm::TLM_BURST_ERROR_RESPONSE : tlm::TLM_COMMAND_ERROR_RESPONSE,
                                kReportId, name(), "the accumulate alias takes writes of whole int64 entries only");
        const std::uint64_t first = (addr - size) / kAccEntryBytes;
        for (unsigned i = 0; i < len / kAccEntryBytes; ++i) {
            std::int64_t v;
            std::memcpy(&v, t.get_data_ptr() + i * kAccEntryBytes, sizeof v);
            buffer_[first + i] += v;
        }
        counters_.shift_adds += len / kAccEntryBytes;
        counters_.buffer_bytes_read += len;
        counters_.buffer_bytes_written += len;
        delay += 2 * buffer_time(len);
    } else if (t.is_write()) {
        std::memcpy(bytes + addr, t.get_data_ptr(), len);
        counters_.buffer_bytes_written += len;
        delay += buffer_time(len);
    } else if (t.is_read()) {
        std::memcpy(t.get_data_ptr(), bytes + addr, len);
        counters_.buffer_bytes_read += len;
        delay += buffer_time(len);
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned ShiftAddAccumulator::bus_dbg(tlm::tlm_generic_payload& t) {
    const std::uint64_t size = buffer_size();
    if (t.get_address() >= size) return 0;
    const unsigned n = static_cast<unsigned>(std::min<std::uint64_t>(t.get_data_length(), size - t.get_address()));
    auto* bytes = reinterpret_cast<unsigned char*>(buffer_.data());
    if (t.is_read()) std::memcpy(t.get_data_ptr(), bytes + t.get_address(), n);
    else if (t.is_write()) std::memcpy(bytes + t.get_address(), t.get_data_ptr(), n);
    return n;
}

void ShiftAddAccumulator::meter(EnergyMeter& m) const {
    m.add(&EnergyBreakdown::shift_add, counters_.shift_adds + counters_.finishes, digital_.shift_add_pj);
    m.add(&EnergyBreakdown::buffers, counters_.buffer_bytes_read, buffer_cfg_.read_pj_per_byte);
    m.add(&EnergyBreakdown::buffers, counters_.buffer_bytes_written, buffer_cfg_.write_pj_per_byte);
}

}  // namespace cimvp
