#include "hw/adc_bank.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "hw/address_map.h"
#include "tlm/cim_read_extension.h"
#include "tlm/window_access.h"

namespace cimvp {

using tlmx::CimReadContext;
using tlmx::CimReadExtension;

AdcBank::AdcBank(sc_core::sc_module_name name, const AdcConfig& cfg, int cols)
    : sc_module(name),
      table_socket("table_socket"),
      in_socket("in_socket"),
      out_socket("out_socket"),
      cfg_(cfg),
      cols_(cols),
      table_(cols, numerics::AdcColumn{std::int64_t{1} << cfg.frac_bits, 0}),
      conversion_(cfg.cycles_per_conversion() * cfg.cycle_ns, sc_core::SC_NS),
      codes_(cols, 0),
      values_(cols, 0) {
    table_changed();
    table_socket.register_b_transport(this, &AdcBank::table_access);
    in_socket.register_b_transport(this, &AdcBank::convert);
}

void AdcBank::attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope, int col) {
    if (col < 0 || col >= cols_)
        throw std::invalid_argument(std::string(name()) + ": waveform column " + std::to_string(col) + ", expected 0.." +
                                    std::to_string(cols_ - 1));
    wave_ = &w;
    wave_col_ = col;
    w.declare(scope, "column", 16, static_cast<std::uint64_t>(col));
    wave_vars_.code = w.declare(scope, "code", cfg_.bits);
    wave_vars_.psum = w.declare(scope, "psum", 64);
    w.show_signed(wave_vars_.psum);
    wave_vars_.clamped = w.declare(scope, "clamped", 1);
    record_codes(true);
}

sc_core::sc_time AdcBank::conversion_time(int n) const {
    const int rounds = (n + cfg_.adcs_per_macro - 1) / cfg_.adcs_per_macro;
    return rounds * conversion_;
}

void AdcBank::table_access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    static_assert(sizeof(numerics::AdcColumn) == kAdcEntryBytes, "table entry layout");
    const std::uint64_t size = static_cast<std::uint64_t>(cols_) * kAdcEntryBytes;
    const std::uint64_t addr = t.get_address();
    const unsigned len = t.get_data_length();
    if (!tlmx::accept_window_access(t, size, kReportId, name())) return;
    auto* table = reinterpret_cast<unsigned char*>(table_.data());
    if (t.is_write()) {
        std::memcpy(table + addr, t.get_data_ptr(), len);
        table_changed();
    }
    else if (t.is_read()) std::memcpy(t.get_data_ptr(), table + addr, len);
    delay += sc_core::sc_time(cfg_.cycle_ns, sc_core::SC_NS);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

void AdcBank::table_changed() {
    first_bad_step_ = cols_;
    for (int c = cols_ - 1; c >= 0; --c)
        if (table_[c].step_fx <= 0) first_bad_step_ = c;
    unit_columns_ = 0;
    while (unit_columns_ < cols_ && table_[unit_columns_].step_fx == (std::int64_t{1} << cfg_.frac_bits) &&
           table_[unit_columns_].base_fx == 0)
        ++unit_columns_;
}

void AdcBank::convert(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    CimReadExtension* ext = nullptr;
    t.get_extension(ext);
    if (!ext) return tlmx::missing_extension(t, kReportId, name());
    CimReadContext& ctx = ext->ctx;
    const int n = ctx.cols;
    const std::size_t stride = t.get_data_length() / sizeof(std::int64_t) / std::max(ctx.steps, 1);
    if (n < 0 || n > cols_ || ctx.steps < 1 || stride < static_cast<std::size_t>(n))
        return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(),
                            "a read context outside the bank or shorter data than its columns");
    // A step that is not positive is a bad calibration table: refuse, do not divide.
    if (n > first_bad_step_)
        return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(),
                            ("column " + std::to_string(first_bad_step_) + " has a step <= 0 in its table").c_str());
    auto* psum = reinterpret_cast<std::int64_t*>(t.get_data_ptr());
    counters_.conversions += static_cast<std::uint64_t>(ctx.steps) * n;
    counters_.batches += static_cast<std::uint64_t>(ctx.steps);
    const sc_core::sc_time started = sc_core::sc_time_stamp() + delay;
    delay += ctx.steps * conversion_time(n);
    const std::int64_t max_psum =
        static_cast<std::int64_t>(ctx.rows) * ((1 << std::min(ctx.dac_bits, ctx.a_bits)) - 1) * ((1 << ctx.cell_bits) - 1);
    if (ctx.integer_psum && n <= unit_columns_ && max_psum <= (std::int64_t{1} << cfg_.bits) - 1 && !record_codes_ &&
        !converter_) {
        // Step 1, base 0, nothing can clamp: the values are the partial sums (the same numbers, no copy).
        return t.set_response_status(
            tlmx::forward_vector(out_socket, out_, psum, t.get_data_length(), ext, delay));
    }
    ctx.zero_steps = 0;  // a base can turn a zero partial sum into a non-zero value
    values_.resize(static_cast<std::size_t>(ctx.steps) * stride);
    const sc_core::sc_time per_read = conversion_time(n);
    for (int s = 0; s < ctx.steps; ++s) {
        numerics::adc_convert(psum + s * stride, table_.data(), n, cfg_.bits, codes_.data(), &values_[s * stride]);
        if (wave_ && wave_col_ < n) {
            // Read s's conversion of the column is done when its read's conversions are.
            const sc_core::sc_time at = started + per_read * static_cast<double>(s + 1);
            const std::int64_t p = psum[s * stride + static_cast<std::size_t>(wave_col_)];
            const numerics::AdcColumn& col = table_[wave_col_];
            const std::int64_t raw = numerics::round_half_up_div(p - col.base_fx, col.step_fx);
            wave_->change(wave_vars_.code, at, static_cast<std::uint64_t>(codes_[wave_col_]));
            wave_->change(wave_vars_.psum, at, static_cast<std::uint64_t>(p));
            wave_->change(wave_vars_.clamped, at, raw < 0 || raw > (std::int64_t{1} << cfg_.bits) - 1);
        }
    }
    if (converter_) {
        converter_codes_.resize(static_cast<std::size_t>(n));
        converter_values_.resize(values_.size());
        for (int s = 0; s < ctx.steps; ++s) {
            const std::int64_t* in = psum + s * stride;
            std::int64_t* mine = &values_[s * stride];
            std::int64_t* theirs = &converter_values_[s * stride];
            if (wave_ && wave_col_ < n) converter_->watch(started + per_read * static_cast<double>(s + 1), wave_col_);
            converter_->convert(in, table_.data(), n, cfg_.bits, converter_codes_.data(), theirs);
            for (int c = 0; c < n; ++c)
                counters_.converter_mismatches +=
                    theirs[c] != mine[c] || converter_codes_[c] != numerics::adc_code(in[c], table_[c], cfg_.bits);
            for (std::size_t k = static_cast<std::size_t>(n); k < stride; ++k) theirs[k] = mine[k];
        }
        std::swap(values_, converter_values_);  // the stand-in's values go on to the shift-add
    }
    t.set_response_status(tlmx::forward_vector(out_socket, out_, values_.data(), t.get_data_length(), ext, delay));
}

}  // namespace cimvp
