// The system top: the accelerator platform, the host CPU on its bus with the
// platform's interrupt line, and the optional instruments a run asks for (RTL
// twins in the loop, a VCD of the platform's and the host's signals, the
// command-stream recorder, the transaction log). Every subcommand and every
// SystemC test that runs a program on the host builds the system this way.
#pragma once

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <systemc>

#include "hw/arch_config.h"
#include "hw/platform.h"
#include "hw/swis_pe.h"
#include "sw/driver/command_stream_recorder.h"
#include "sw/driver/host_cpu.h"
#include "sw/system/waveform_options.h"

namespace cimvp {

class RtlAdcConverter;
class RtlSwisPe;

// What the system holds besides the platform and the host; everything is off by default.
struct SystemOptions {
    // Every bus transaction, one line each, to log_stream (tlm/transaction_log.h).
    bool log_transactions = false;
    std::ostream* log_stream = &std::cerr;

    // The Verilated RTL twins stand in for every ADC bank's converter and for the PE array's
    // datapath (docs/rtl.md).
    bool rtl = false;
    PeMode rtl_pe_mode = PeMode::kDoubleShift;  // the PE twin's datapath: kSingleShift or kDoubleShift
    std::string rtl_vcd;                        // non-empty: the RTL's own VCDs, <prefix>.sar_adc.vcd and .swis_pe.vcd
    std::uint64_t rtl_vcd_cycles = 100000;      // clocks of each block those files keep

    // A VCD of the platform's and the host's signals, with the RTL's beside them under `rtl`
    // (docs/debugging.md); with a layer or image gate the RTL's own VCDs start gated too.
    WaveformOptions waveforms;

    // Every bus access and interrupt wait of the host, for `--record` (docs/record-format.md).
    bool record_commands = false;
};

class System : public sc_core::sc_module {
public:
    Platform platform;
    HostCpu host;

    System(sc_core::sc_module_name name, const ArchConfig& cfg, const SystemOptions& options = {});
    ~System() override;
    System(const System&) = delete;
    System& operator=(const System&) = delete;

    // Runs `program` on the host until it returns (HostCpu::run: its exception is rethrown),
    // then closes the waveforms and the RTL's VCDs. An exception of the platform's controller
    // thread (Controller::failure: e.g. an RTL twin's RtlContractError) is rethrown as thrown.
    // Once per process: SystemC elaborates once.
    void run(HostCpu::Program program);

    const ArchConfig& config() const { return platform.config(); }
    const SystemOptions& options() const { return options_; }

    // What the router's protocol checkers counted (platform.check_protocol), or nothing without them.
    std::optional<tlmx::ProtocolCounts> protocol_counts() const;

    // Null when the options did not ask for them.
    Waveforms* waveforms() { return waves_.recorder ? &waves_ : nullptr; }
    RtlAdcConverter* rtl_adc() { return rtl_adc_.get(); }
    RtlSwisPe* rtl_pe() { return rtl_pe_.get(); }
    CommandStreamRecorder* command_recorder() { return recorder_.get(); }
    // Clocks the ADC twin ran while it was reset, before the platform used it.
    std::uint64_t rtl_adc_reset_cycles() const { return rtl_adc_reset_cycles_; }
    // Whether the host opens and closes the RTL's VCDs with the waveform gate (--vcd-layer, --vcd-image).
    bool rtl_vcd_gated() const;
    // Opens (begin) or closes the RTL's VCD gates, when rtl_vcd_gated().
    void gate_rtl_vcd(bool open);

private:
    void attach_rtl();

    SystemOptions options_;
    HostCpu::Program program_;
    std::unique_ptr<RtlAdcConverter> rtl_adc_;
    std::unique_ptr<RtlSwisPe> rtl_pe_;
    std::uint64_t rtl_adc_reset_cycles_ = 0;
    Waveforms waves_;
    std::unique_ptr<CommandStreamRecorder> recorder_;
};

}  // namespace cimvp
