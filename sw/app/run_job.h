// `cimvp run`: a quantized network over a data set on the platform, checked
// image by image against the C++ reference (and, where the model ships its
// expected logits digest, against the PyTorch fake-quant model).
// Elaborates SystemC: call once per process. An MPI-parallel run (docs/scale.md)
// is one run_network_part per process, each simulating its share of the batches,
// and merge_run_shares of every share on one: the report of a run of one process
// is made the same way, from its one share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hw/arch_config.h"
#include "sw/driver/network_runner.h"
#include "sw/system/waveform_options.h"
#include "sw/formats/model_file.h"
#include "sw/compiler/plan.h"
#include "sw/compiler/swis_storage.h"
#include "tlm/protocol_checker.h"

namespace cimvp {

struct RunJobSpec {
    std::string model_path;
    std::string data_dir;
    int limit = 0;        // images (0: the whole test set)
    int batch = 64;       // images per command list
    bool check_reference = true;
    bool progress = true;  // progress bar on stderr
    std::string pe_layers = "default";  // "default", "none", "all" or layer indices "0,3"
    int swis_shifts = 8;               // shifts of PE-array layers (8: exact int8)
    bool single_shift = false;         // PE form: single shift instead of double
    WaveformOptions waveforms;         // --vcd and its options
    bool rtl = false;                  // the Verilated ADC and PE in the loop (docs/rtl.md)
    std::string rtl_vcd;               // with rtl: VCD prefix, <prefix>.sar_adc.vcd and <prefix>.swis_pe.vcd
    std::uint64_t rtl_vcd_cycles = 100000;  // clocks of each block the VCD files keep
    std::string record_path;           // non-empty: write the recorded command stream here
    // The share of the images this process simulates: part `part` (0 ..) of `parts` contiguous runs of
    // whole batches (an MPI-parallel run, docs/scale.md; one part: every image).
    int part = 0, parts = 1;
};

// What the RTL twins did in a run with the RTL in the loop, and the model's own counts to
// check them against.
struct RtlRunStats {
    std::uint64_t conversions = 0;        // conversions the RTL ADC made
    std::uint64_t adc_cycles = 0;         // its clocks (reset clocks excluded)
    std::uint64_t model_conversions = 0;  // conversions the ADC banks counted
    std::uint64_t adc_mismatches = 0;     // RTL codes or values unlike the contract's
    std::uint64_t pe_outputs = 0;         // accumulators the RTL PE produced
    std::uint64_t pe_groups = 0;          // weight groups it ran
    std::uint64_t pe_cycles = 0;          // its enabled clocks
    std::uint64_t model_pe_cycles = 0;    // PE cycles the array counted in SS and DS jobs
    std::uint64_t pe_mismatches = 0;      // RTL accumulators unlike the array model's
    std::uint64_t pe_bypassed_jobs = 0;   // PE jobs in a form the RTL does not have
    int adc_bits = 0;
    double adc_seconds = 0, pe_seconds = 0;  // wall time spent clocking the RTL
    // The RTL took the clocks the models annotate: adc_bits per conversion, and the array's PE cycles.
    bool cycles_match() const {
        return adc_cycles == model_conversions * static_cast<std::uint64_t>(adc_bits) && pe_cycles == model_pe_cycles;
    }
    // Another share's counts and seconds added to these (the same ADC resolution).
    RtlRunStats& operator+=(const RtlRunStats& o);
    bool ok() const {
        return adc_mismatches == 0 && pe_mismatches == 0 && pe_bypassed_jobs == 0 && conversions == model_conversions &&
               cycles_match();
    }
};

// The mapping a spec asks for; throws std::invalid_argument naming --pe-layers.
NetworkOptions network_options(const NetworkModel& model, const RunJobSpec& spec);

struct LayerReport {
    std::string name;
    std::string mapped_to;  // "crossbar" or "pe_array"
    double macs_per_image = 0;
    RunStats stats;  // over the whole run
    bool scratch_on_chip = false;  // accumulators, input sums, staging in the global buffer
    int images_per_step = 0;       // images of a batch one step of the layer's list runs
    std::optional<SwisLayerStorageReport> swis;  // the layer's stored SWIS groups (model format v2)
    std::string swis_variant;                    // "swis" or "swis-c" when stored
};

struct RunJobResult {
    std::string model_name, scheme;
    int images = 0, correct = 0, agree = 0;
    double accuracy = 0, agreement = 0;
    double wall_s = 0, reference_wall_s = 0;
    RunStats total;        // every batch, all layers (programming excluded)
    RunStats programming;  // weights programmed once, when resident
    bool resident = false;
    bool activations_on_chip = false;  // hidden activations and logits in the global buffer
    TensorPlacement tensors;           // their buffers, on chip and in DRAM
    std::vector<LayerReport> layers;
    std::vector<std::string> recalibrated;  // layers whose ADC tables were recalibrated for this config
    std::vector<std::string> decomposed;    // int8 layers --swis-shifts decomposed at fewer than 8 shifts
    std::string logits_digest;              // FNV-1a 64 of the int64 logits of every image, in order
    std::optional<bool> fake_quant_match;   // vs <model>.expected.json when comparable
    std::string expected_path;
    std::optional<RtlRunStats> rtl;  // with spec.rtl
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol (docs/protocol-checks.md)
};

// The index of the layer `which` names: an index ("2"), a layer name as the results file
// writes it ("layer 2 (conv)"), or the kind and its 1-based count among layers of that kind
// ("conv2": the second convolution, "fc1"). Throws std::invalid_argument naming `flag` and the layers.
int resolve_layer(const NetworkModel& model, const std::string& which, const std::string& flag);

// Expected-results file shipped next to a model: <model without .cimvp>.expected.json.
std::string expected_results_path(const std::string& model_path);

// What one process simulated of a run's images: the images first_image .. first_image + images - 1,
// whole batches; what they depend on, and nothing a process computes alike for every share.
struct RunShare {
    int first_image = 0, images = 0, correct = 0, agree = 0;
    double wall_s = 0;       // its simulation's wall time
    double reference_s = 0;  // the CPU time of its check against the C++ reference
    std::vector<std::int64_t> logits;            // images x classes, image-major
    std::vector<std::vector<RunStats>> batches;  // per batch, each layer's statistics
    std::optional<RtlRunStats> rtl;              // with spec.rtl
    std::optional<tlmx::ProtocolCounts> protocol;  // with platform.check_protocol: its simulation's checks
};

// One process's part of a run: the report's description of the model and its layers (the same in
// every process: statistics, counts and digest not yet filled in), and the share it simulated.
struct RunJobPart {
    RunJobResult run;
    RunShare share;
};

// Loads, compiles and checks the run (the same in every process), then simulates the share
// spec.part of spec.parts.
RunJobPart run_network_part(const ArchConfig& cfg, const RunJobSpec& spec);

// The report of a run from its description and every share, in image order: counts and
// CPU seconds summed, each layer's statistics summed batch by batch in image order, the digest of
// every logit in image order, the protocol checks of every share, wall time the longest share's. Throws std::logic_error when the
// shares do not cover the run's images in order.
RunJobResult merge_run_shares(RunJobResult description, const std::vector<RunShare>& shares, const RunJobSpec& spec);

// The whole run in this process: run_network_part of the one part, merged.
RunJobResult run_network_job(const ArchConfig& cfg, const RunJobSpec& spec);

}  // namespace cimvp
