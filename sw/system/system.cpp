#include "sw/system/system.h"

#include <cmath>
#include <exception>
#include <utility>

#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_swis_pe.h"

namespace cimvp {

System::System(sc_core::sc_module_name name, const ArchConfig& cfg, const SystemOptions& options)
    : sc_core::sc_module(name),
      // The platform first: it sets the global quantum the host's quantum keeper reads when it is built.
      platform("platform", cfg),
      host("host", [this](HostCpu& cpu) { program_(cpu); }),
      options_(options) {
    if (options_.log_transactions) {
        platform.log.set_stream(options_.log_stream);
        platform.log.enable(true);
    }
    if (options_.rtl) {
        rtl_adc_ = std::make_unique<RtlAdcConverter>();
        rtl_pe_ = std::make_unique<RtlSwisPe>(options_.rtl_pe_mode);
        if (!options_.rtl_vcd.empty()) {
            const auto ps = [](double ns) { return static_cast<std::uint64_t>(std::llround(ns * 1000.0)); };
            rtl_adc_->open_vcd(options_.rtl_vcd + ".sar_adc.vcd", options_.rtl_vcd_cycles, ps(cfg.adc.cycle_ns));
            rtl_pe_->open_vcd(options_.rtl_vcd + ".swis_pe.vcd", options_.rtl_vcd_cycles, ps(cfg.digital.clock_ns));
        }
    }
    if (options_.waveforms.enabled()) waves_ = open_waveforms(options_.waveforms, platform);
    if (options_.rtl) attach_rtl();
    platform.router.attach("host", host.bus_socket);
    host.irq.bind(platform.irq);
    if (options_.record_commands) {
        recorder_ = std::make_unique<CommandStreamRecorder>(cfg);
        host.set_observer(recorder_.get());
    }
}

System::~System() = default;

void System::attach_rtl() {
    if (waves_.recorder) {  // the RTL's side in the same file (docs/debugging.md)
        rtl_adc_->attach_waveforms(*waves_.recorder, "rtl.sar_adc");
        rtl_pe_->attach_waveforms(*waves_.recorder, "rtl.swis_pe");
    }
    for (auto& t : platform.tiles) t->adc.set_converter(rtl_adc_.get());
    platform.pe_array.set_datapath(rtl_pe_.get());
    rtl_adc_reset_cycles_ = rtl_adc_->cycles();
    // Gated waveforms gate the RTL's own clocks too (docs/rtl.md): closed until the host opens them.
    if (rtl_vcd_gated()) gate_rtl_vcd(false);
}

std::optional<tlmx::ProtocolCounts> System::protocol_counts() const {
    if (!platform.router.checks_protocol()) return std::nullopt;
    return platform.router.protocol_counts();
}

bool System::rtl_vcd_gated() const {
    return options_.rtl && !options_.rtl_vcd.empty() && options_.waveforms.enabled() && options_.waveforms.gated();
}

void System::gate_rtl_vcd(bool open) {
    if (!rtl_vcd_gated()) return;
    rtl_adc_->set_vcd_gate(open);
    rtl_pe_->set_vcd_gate(open);
}

void System::run(HostCpu::Program program) {
    program_ = std::move(program);
    try {
        host.run();
    } catch (const sc_core::sc_report&) {
        // The controller's thread threw: SystemC's report of it keeps only the text.
        if (const std::exception_ptr e = platform.controller.failure()) std::rethrow_exception(e);
        throw;
    }
    if (waves_.recorder) waves_.recorder->close();
    if (rtl_adc_) rtl_adc_->close_vcd();
    if (rtl_pe_) rtl_pe_->close_vcd();
}

}  // namespace cimvp
