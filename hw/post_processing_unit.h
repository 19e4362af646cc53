// The post-processing unit: turns a layer's accumulators into the next
// layer's activations (bias, per-channel requantization, ReLU by clamping,
// max/average pooling) or, for the last layer, into int64 logits; and runs a
// graph network's tensor nodes (add, a concat's inputs, pooling, global
// average; TensorOp jobs, CTRL.TENSOR_OP). Descriptor driven
// (hw/command_format.h PostProcessDescriptor, TensorOpDescriptor), loosely
// timed and blocking like the DMA: START runs the job inside the write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/command_format.h"
#include "hw/engine_registers.h"
#include "hw/arch_config.h"
#include "hw/energy_report.h"
#include "tlm/burst_port.h"
#include "tlm/register_file.h"
#include "tlm/waveform_recorder.h"

namespace cimvp {

namespace ppu_regs {
// 0x00..0x14: the shared engine block (hw/engine_registers.h): ID, DESC_ADDR_LO/HI, CTRL, STATUS, ERROR.
using namespace engine_regs;
constexpr std::uint32_t kOutputs = 0x18;     // RO outputs finished since reset (low 32 bits)
constexpr std::uint32_t kTensorJobs = 0x1C;  // RO tensor-op jobs finished since reset (low 32 bits)
constexpr std::uint32_t kCtrlTensorOp = 1u << 1;  // with START: the descriptor is a TensorOpDescriptor
constexpr std::uint32_t kIdValue = 0x50505531;  // "PPU1"
}  // namespace ppu_regs

enum class PostProcessError : std::uint32_t {
    kNone = 0,
    kDescriptorFetch = 1,
    kRead = 2,           // accumulators, input sums or parameters
    kWrite = 3,
    kBadDescriptor = 4,  // zero size, bits outside 1..8, shift > 62, a pool window larger than the map,
                         // an unknown tensor op, a destination stride shorter than an image's result
};

class PostProcessingUnit : public sc_core::sc_module {
public:
    // Message type of the unit's SystemC reports (tlm/error_report.h): register errors, jobs ending in ERROR.
    static constexpr const char* kReportId = "/cimvp/ppu";
    static constexpr std::uint32_t kMaxBurstBytes = 4096;

    tlm_utils::simple_target_socket<PostProcessingUnit> regs_socket;
    tlm_utils::simple_initiator_socket<PostProcessingUnit> bus_socket;

    // outputs: values requantized (or, for logits, computed), post-processing and tensor ops alike;
    // tensor_jobs: the TensorOp jobs among jobs.
    struct Counters {
        std::uint64_t jobs = 0, outputs = 0, errors = 0, tensor_jobs = 0;
    };

    PostProcessingUnit(sc_core::sc_module_name name, const DigitalConfig& cfg, double bytes_per_ns);
    PostProcessingUnit(const PostProcessingUnit&) = delete;
    PostProcessingUnit& operator=(const PostProcessingUnit&) = delete;

    const Counters& counters() const { return counters_; }
    void meter(EnergyMeter& m) const { m.add(&EnergyBreakdown::post_process, counters_.outputs, cfg_.post_process_pj); }
    double energy_pj() const {
        EnergyMeter m;
        meter(m);
        return m.total_pj();
    }
    void reset_counters() { counters_ = {}; }
    // Declares busy and outputs (of the current job) in `scope` and records them from now on.
    void attach_waveforms(tlmx::WaveformRecorder& w, const std::string& scope);

private:
    void regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned regs_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    PostProcessError run(sc_core::sc_time& delay);
    PostProcessError execute(const PostProcessDescriptor& d, sc_core::sc_time& delay);
    PostProcessError execute_tensor(const TensorOpDescriptor& d, sc_core::sc_time& delay);
    // Writes `images` results of `bytes` each to dst + i * stride (stride 0 or `bytes`: one block).
    bool write_images(std::uint64_t dst, std::uint8_t* data, std::uint64_t bytes, std::uint32_t images,
                      std::uint64_t stride, sc_core::sc_time& delay);

    DigitalConfig cfg_;
    tlmx::RegisterFile regs_;
    tlmx::BurstPort port_;
    bool start_requested_ = false;
    std::uint32_t ctrl_ = 0;  // the last CTRL write
    std::vector<std::int64_t> acc_, sx_, bias_;
    std::vector<std::int32_t> mult_, mult_x_;
    std::vector<std::uint8_t> params_, y_, out_, a_, b_;
    Counters counters_;
    tlmx::WaveformRecorder* wave_ = nullptr;
    tlmx::WaveformRecorder::Var wave_busy_ = 0, wave_outputs_ = 0;
};

}  // namespace cimvp
