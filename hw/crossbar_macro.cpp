#include "hw/crossbar_macro.h"

#include "tlm/cim_read_extension.h"
#include "tlm/error_report.h"
#include "tlm/window_access.h"

namespace cimvp {

using tlmx::CimReadContext;
using tlmx::CimReadExtension;

CrossbarMacro::CrossbarMacro(sc_core::sc_module_name name, const CrossbarConfig& cfg, const NonIdealConfig& nonideal,
                             int frac_bits, std::uint64_t tile_id)
    : sc_module(name),
      prog_socket("prog_socket"),
      read_socket("read_socket"),
      adc_socket("adc_socket"),
      cfg_(cfg),
      nonideal_(nonideal),
      frac_bits_(frac_bits),
      tile_id_(tile_id),
      array_(cfg.rows, cfg.cols, cfg.cell_bits),
      read_time_(cfg.read_ns, sc_core::SC_NS),
      psum_(static_cast<std::size_t>(kMaxSteps) * cfg.cols) {
    prog_socket.register_b_transport(this, &CrossbarMacro::program);
    prog_socket.register_transport_dbg(this, &CrossbarMacro::program_dbg);
    read_socket.register_b_transport(this, &CrossbarMacro::read);
}

void CrossbarMacro::program(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const std::uint64_t size = static_cast<std::uint64_t>(cfg_.rows) * cfg_.cols;
    const std::uint64_t addr = t.get_address();
    const unsigned len = t.get_data_length();
    if (!tlmx::accept_window_access(t, size, kReportId, name())) return;
    std::uint8_t* data = t.get_data_ptr();
    const int max_level = (1 << cfg_.cell_bits) - 1;
    if (t.is_read()) {
        for (unsigned i = 0; i < len; ++i)
            data[i] = static_cast<std::uint8_t>(array_.level(static_cast<int>((addr + i) / cfg_.cols),
                                                             static_cast<int>((addr + i) % cfg_.cols)));
    } else if (t.is_write()) {
        for (unsigned i = 0; i < len; ++i)
            if (data[i] > max_level)
                return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(),
                                    "a level above the cell's range");
        // Row by row: a programming pulse drives one word line at a time.
        std::uint64_t a = addr;
        unsigned done = 0;
        while (done < len) {
            const int r = static_cast<int>(a / cfg_.cols), c = static_cast<int>(a % cfg_.cols);
            const unsigned n = std::min<unsigned>(len - done, static_cast<unsigned>(cfg_.cols - c));
            array_.program_row(r, data + done, c, static_cast<int>(n));
            ++counters_.rows_programmed;
            counters_.cells_programmed += n;
            delay += sc_core::sc_time(cfg_.write_ns_per_row, sc_core::SC_NS);
            done += n;
            a += n;
        }
        realized_ = !nonideal_.enabled();
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned CrossbarMacro::program_dbg(tlm::tlm_generic_payload& t) {
    const std::uint64_t size = static_cast<std::uint64_t>(cfg_.rows) * cfg_.cols;
    if (!t.is_read() || t.get_address() >= size) return 0;
    const unsigned n = static_cast<unsigned>(std::min<std::uint64_t>(t.get_data_length(), size - t.get_address()));
    for (unsigned i = 0; i < n; ++i) {
        const std::uint64_t a = t.get_address() + i;
        t.get_data_ptr()[i] = static_cast<std::uint8_t>(array_.level(static_cast<int>(a / cfg_.cols),
                                                                     static_cast<int>(a % cfg_.cols)));
    }
    return n;
}

void CrossbarMacro::read(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    CimReadExtension* ext = nullptr;
    t.get_extension(ext);
    if (!ext) return tlmx::missing_extension(t, kReportId, name());
    CimReadContext& ctx = ext->ctx;
    const int words = array_.words_per_column();
    const std::size_t plane_bytes = static_cast<std::size_t>(ctx.a_bits) * words * 8;
    if (ctx.cols < 0 || ctx.cols > cfg_.cols || ctx.rows < 0 || ctx.rows > cfg_.rows || ctx.steps < 1 ||
        ctx.steps > kMaxSteps || ctx.dac_bits < 1 || t.get_data_length() < plane_bytes)
        return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(),
                            "a read context outside the macro or shorter data than its planes");
    if (!realized_) {
        array_.apply_nonideal(nonideal_, tile_id_);
        realized_ = true;
    }
    const auto* planes = reinterpret_cast<const std::uint64_t*>(t.get_data_ptr());
    ctx.integer_psum = !array_.analog();
    ctx.zero_steps = 0;
    for (int s = 0; s < ctx.steps; ++s) {
        const bool zero = array_.read(planes + static_cast<std::size_t>(s) * ctx.dac_bits * words, ctx.step_bits(s),
                                      ctx.cols, frac_bits_, ctx.vector_index, s,
                                      &psum_[static_cast<std::size_t>(s) * cfg_.cols], ctx.rows);
        if (zero) ctx.zero_steps |= 1u << s;
    }
    counters_.reads += static_cast<std::uint64_t>(ctx.steps);
    counters_.cell_reads += static_cast<std::uint64_t>(ctx.steps) * ctx.rows * ctx.cols;
    counters_.column_reads += static_cast<std::uint64_t>(ctx.steps) * ctx.cols;
    delay += ctx.steps * read_time_;
    // The partial sums of every read travel on to the ADC bank (stride: the macro's columns).
    t.set_response_status(tlmx::forward_vector(adc_socket, out_, psum_.data(),
                                               static_cast<unsigned>(ctx.steps * cfg_.cols * sizeof(std::int64_t)),
                                               ext, delay));
}

void CrossbarMacro::meter(EnergyMeter& m) const {
    m.add(&EnergyBreakdown::crossbar, counters_.cell_reads, cfg_.read_pj_per_cell);
    m.add(&EnergyBreakdown::crossbar, counters_.column_reads, cfg_.read_pj_per_column);
    m.add(&EnergyBreakdown::crossbar, counters_.cells_programmed, cfg_.write_pj_per_cell);
}

double CrossbarMacro::energy_pj() const {
    EnergyMeter m;
    meter(m);
    return m.total_pj();
}

}  // namespace cimvp
