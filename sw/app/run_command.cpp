// `cimvp run`: a quantized network on the data set (--model), or a workload
// trace layer by layer (--trace): its options, the rules between the two kinds
// of run, and the reports. Under mpirun every rank simulates its share (the
// images' batches, or the trace's layers) and rank 0 merges the shares and
// reports (docs/scale.md); a run of one process is a run of one share.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/app/command_line.h"
#include "sw/app/commands.h"
#include "sw/app/mpi_session.h"
#include "sw/app/results_json.h"
#include "sw/app/run_job.h"
#include "sw/app/run_shares.h"
#include "sw/app/trace_job.h"
#include "sw/formats/config_loader.h"
#include "sw/formats/idx_dataset.h"

namespace cimvp::cli {

namespace {

void add_model_options(po::options_description& d) {
    add_common(d);
    d.add_options()("model", po::value<std::string>(),
                    "model file (format v1, v2 or v3; default: the data directory's models/fmnist-bwma.cimvp)")(
        "data", po::value<std::string>()->default_value(kFashionMnistDir), "directory of the IDX data set")(
        "limit", po::value<int>()->default_value(0), "run the first N test images (0: all 10,000)")(
        "batch", po::value<int>()->default_value(64), "images per command list")(
        "no-check", po::bool_switch(), "skip the per-image comparison with the C++ reference")(
        "pe-layers", po::value<std::string>()->default_value("default"),
        "layers on the SWIS PE array: default (BWMA: first and last; every layer stored as SWIS groups), none, all, "
        "or indices like 0,3")(
        "swis-shifts", po::value<int>()->default_value(8),
        "shared shifts of PE-array layers (8: exact int8; not with SWIS groups stored in the model)")(
        "single-shift", po::bool_switch(), "single-shift PEs instead of double-shift")(
        "rtl", po::bool_switch(),
        "the Verilated RTL of the ADC and the SWIS PE in the loop: every conversion and every PE group of the run "
        "goes through it, checked against the models (docs/rtl.md)")(
        "rtl-vcd", po::value<std::string>(),
        "with --rtl: write the RTL's signals to PREFIX.sar_adc.vcd and PREFIX.swis_pe.vcd")(
        "rtl-vcd-cycles", po::value<long long>()->default_value(100000),
        "with --rtl-vcd: clocks of each block to keep (from the start of the run, or of the lists "
        "--vcd-layer/--vcd-image select)")(
        "quiet", po::bool_switch(), "no progress bar")(
        "record", po::value<std::string>(), "write the recorded command stream (docs/record-format.md) to this file");
    add_waveform_options(d, true);
    add_check_protocol_option(d);
}

void add_trace_options(po::options_description& t) {
    t.add_options()("trace", po::value<std::string>(), "run this network trace instead of --model on the data set")(
        "map", po::value<std::string>()->default_value("trace"),
        "where layers with weights run: trace (each layer's map=), crossbar (the CIM tiles) or pe (the SWIS PE array)")(
        "images", po::value<int>()->default_value(1), "images (sets of drawn inputs) per layer")(
        "layers", po::value<int>()->default_value(0), "run only the first N layers of the trace (0: all)")(
        "resident", po::bool_switch(),
        "weights-resident chip: every crossbar layer (each depthwise block) on its own tiles, all programmed once "
        "before the first image and reported apart from the per-image figures; platform.tiles must hold them all "
        "(cimvp size sizes it; docs/trace-format.md)")(
        "csv", po::value<std::string>(), "write the per-layer report as CSV to this file (docs/results.md)");
}

// Options of one kind of run given to the other are errors, not silently ignored.
bool given(const po::variables_map& vm, const char* o) { return vm.count(o) && !vm[o].defaulted(); }

// --trace F: no option of a model run.
void check_trace_options(const po::variables_map& vm) {
    if (given(vm, "model")) throw std::invalid_argument("run: expected one of --trace F and --model F, got both");
    for (const char* o : {"data", "limit", "batch", "pe-layers", "swis-shifts"})
        if (given(vm, o))
            throw std::invalid_argument(std::string("--") + o + ": expected with --model only, not with --trace");
    if (vm["single-shift"].as<bool>())
        throw std::invalid_argument("--single-shift: expected with --model only, not with --trace");
    for (const char* o : {"vcd", "vcd-from", "vcd-to", "vcd-tile", "vcd-column", "vcd-tiles", "vcd-layer", "vcd-image",
                          "rtl-vcd", "record"})
        if (given(vm, o))
            throw std::invalid_argument(std::string("--") + o + ": expected with --model only, not with --trace");
    if (vm["rtl"].as<bool>()) throw std::invalid_argument("--rtl: expected with --model only, not with --trace");
}

// A model run: no option of a trace run.
void check_model_options(const po::variables_map& vm) {
    for (const char* o : {"csv", "map", "images", "layers"})
        if (given(vm, o)) throw std::invalid_argument(std::string("--") + o + ": expected with --trace F only");
    if (vm["resident"].as<bool>()) throw std::invalid_argument("--resident: expected with --trace F only");
}

// Files that record one simulation: a run split over several ranks has several, each of part of the run.
void check_split_options(const po::variables_map& vm, int ranks) {
    if (ranks == 1) return;
    for (const char* o : {"record", "vcd", "rtl-vcd"})
        if (vm.count(o))
            throw std::invalid_argument(std::string("--") + o + ": expected a run in one process (it records one " +
                                        "simulation), got " + std::to_string(ranks) +
                                        " MPI ranks each simulating part of the run; run it without mpirun");
}

// On rank 0 of several, says whose progress the display shows.
void note_ranks(const MpiSession& mpi, bool progress, const char* share) {
    if (mpi.size() > 1 && mpi.root() && progress)
        std::fprintf(stderr, "cimvp: %d MPI ranks, each simulating its share of the %s; progress of rank 0's share:\n",
                     mpi.size(), share);
}

// A run split over the MPI ranks: `simulate` sets up and simulates this rank's share (every rank),
// then rank 0 merges every rank's share into the run's report; the other ranks get none. A run in
// one process is the merge of its one share.
template <typename Part, typename Share, typename Result, typename Spec>
std::optional<Result> merged_on_rank_0(const MpiSession& mpi, const std::function<Part()>& simulate,
                                       std::string (*encode)(const Share&), Share (*decode)(const std::string&),
                                       Result (*merge)(Result, const std::vector<Share>&, const Spec&),
                                       const Spec& spec) {
    Result description;
    const std::vector<std::string> bytes = mpi.gather([&] {
        Part part = simulate();
        description = std::move(part.run);
        return encode(part.share);
    });
    if (!mpi.root()) return std::nullopt;
    std::vector<Share> shares;
    for (const std::string& b : bytes) shares.push_back(decode(b));
    return merge(std::move(description), shares, spec);
}

// The model run the options ask for, checked.
RunJobSpec run_spec_from(const po::variables_map& vm, const ArchConfig& cfg) {
    RunJobSpec spec;
    spec.waveforms = waveform_options_from(vm, cfg);
    spec.rtl = vm["rtl"].as<bool>();
    if (vm.count("rtl-vcd")) {
        if (!spec.rtl) throw std::invalid_argument("--rtl-vcd: needs --rtl (it traces the RTL in the loop)");
        spec.rtl_vcd = vm["rtl-vcd"].as<std::string>();
        if (spec.rtl_vcd.empty()) throw std::invalid_argument("--rtl-vcd: expected a file prefix, got ''");
    }
    if (vm["rtl-vcd-cycles"].as<long long>() < 0)
        throw std::invalid_argument("--rtl-vcd-cycles: expected 0 or a positive count, got " +
                                    std::to_string(vm["rtl-vcd-cycles"].as<long long>()));
    spec.rtl_vcd_cycles = static_cast<std::uint64_t>(vm["rtl-vcd-cycles"].as<long long>());
    if (vm.count("record")) spec.record_path = vm["record"].as<std::string>();
    spec.model_path = model_option(vm);
    spec.data_dir = vm["data"].as<std::string>();
    spec.limit = vm["limit"].as<int>();
    spec.batch = vm["batch"].as<int>();
    spec.check_reference = !vm["no-check"].as<bool>();
    spec.progress = !vm["quiet"].as<bool>();
    spec.pe_layers = vm["pe-layers"].as<std::string>();
    spec.swis_shifts = vm["swis-shifts"].as<int>();
    spec.single_shift = vm["single-shift"].as<bool>();
    if (spec.limit < 0) throw std::invalid_argument("--limit: expected 0 (all) or a positive count");
    if (spec.batch < 1) throw std::invalid_argument("--batch: expected at least 1");
    return spec;
}

void print_run_report(const RunJobResult& r, const RunJobSpec& spec, const ArchConfig& cfg) {
    const auto& e = r.total.energy;
    const double n = std::max(1, r.images);
    std::printf("model %s (%s) on %d images, config %s\n", r.model_name.c_str(), r.scheme.c_str(), r.images,
                cfg.source.c_str());
    for (const auto& l : r.recalibrated) std::printf("note: %s: ADC tables recalibrated for this config\n", l.c_str());
    for (const auto& l : r.decomposed)
        std::printf("note: %s: decomposed at %d SWIS shifts, not the front end's weights: its digest is not compared\n",
                    l.c_str(), spec.swis_shifts);
    std::printf("accuracy %.2f%%\n", 100.0 * r.accuracy);
    if (spec.check_reference)
        std::printf("agreement with the C++ reference: %.6f (%d of %d images bit-exact)\n", r.agreement, r.agree,
                    r.images);
    if (r.fake_quant_match)
        std::printf("logits digest %s %s the PyTorch fake-quant model's (%s)\n", r.logits_digest.c_str(),
                    *r.fake_quant_match ? "matches" : "DOES NOT match", r.expected_path.c_str());
    std::printf("cycles %llu, simulated latency %.3f us per image (batches of %d)\n",
                static_cast<unsigned long long>(r.total.cycles), r.total.sim_ns / n / 1000.0, spec.batch);
    std::printf("energy per image %.3f nJ: crossbar %.3f, adc %.3f, shift_add %.3f, pe %.3f, post_process %.3f, "
                "buffers %.3f, dma %.3f, dram %.3f nJ\n",
                e.total() / n / 1e3, e.crossbar / n / 1e3, e.adc / n / 1e3, e.shift_add / n / 1e3, e.pe / n / 1e3,
                e.post_process / n / 1e3, e.buffers / n / 1e3, e.dma / n / 1e3, e.dram / n / 1e3);
    for (const auto& l : r.layers) {
        const std::string where = l.mapped_to == "post_process" ? "tensor ops, no accumulators"
                                  : l.scratch_on_chip
                                      ? "accumulators on chip, steps of " + std::to_string(l.images_per_step) + " images"
                                      : "accumulators in DRAM";
        std::printf("  %-14s %-9s %10.0f MACs  %9.3f us  %9.3f nJ per image  (%s)\n", l.name.c_str(),
                    l.mapped_to.c_str(), l.macs_per_image, l.stats.sim_ns / n / 1000.0,
                    l.stats.energy.total() / n / 1e3, where.c_str());
    }
    if (r.activations_on_chip || r.tensors.buffers_on_chip == 0)
        std::printf("activations %s\n", r.activations_on_chip ? "in the global buffer" : "in DRAM");
    else
        std::printf("activations: %d of %d buffers (%.1f of %.1f KiB) in the global buffer, the rest in DRAM\n",
                    r.tensors.buffers_on_chip, r.tensors.buffers, r.tensors.bytes_on_chip / 1024.0,
                    (r.tensors.bytes_on_chip + r.tensors.bytes_dram) / 1024.0);
    for (const auto& l : r.layers)
        if (l.swis)
            std::printf("  %s: stored %s groups, N %.2f (%d..%d), %lld bytes against %lld as int8 (%.2fx)\n",
                        l.name.c_str(), l.swis_variant.c_str(), l.swis->mean_n, l.swis->min_n, l.swis->max_n,
                        static_cast<long long>(l.swis->swis_bytes), static_cast<long long>(l.swis->int8_bytes),
                        l.swis->ratio);
    std::printf("weights programmed %s: %.3f us, %.3f nJ\n", r.resident ? "once" : "per batch (tiles do not hold every layer)",
                r.programming.sim_ns / 1000.0, r.programming.energy.total() / 1e3);
    std::printf("wall time %.3f s, %.1f images/s", r.wall_s, r.images / std::max(1e-9, r.wall_s));
    if (spec.check_reference)
        std::printf(" (C++ reference alone %.3f s, %.1f images/s)", r.reference_wall_s,
                    r.images / std::max(1e-9, r.reference_wall_s));
    std::printf("\n");
    if (r.rtl) {
        const RtlRunStats& x = *r.rtl;
        std::printf("rtl: %llu conversions in %llu ADC clocks (%d per conversion: %s), %llu PE outputs of %llu groups "
                    "in %llu PE clocks (%s the array's count), %llu mismatches against the models\n",
                    static_cast<unsigned long long>(x.conversions), static_cast<unsigned long long>(x.adc_cycles),
                    x.adc_bits, x.adc_cycles == x.model_conversions * static_cast<std::uint64_t>(x.adc_bits) ? "as annotated" : "NOT as annotated",
                    static_cast<unsigned long long>(x.pe_outputs), static_cast<unsigned long long>(x.pe_groups),
                    static_cast<unsigned long long>(x.pe_cycles), x.pe_cycles == x.model_pe_cycles ? "equal to" : "UNLIKE",
                    static_cast<unsigned long long>(x.adc_mismatches + x.pe_mismatches));
        std::printf("rtl: clocking the RTL took %.3f s for the ADC (%.3g clocks/s), %.3f s for the PE (%.3g clocks/s)\n",
                    x.adc_seconds, static_cast<double>(x.adc_cycles) / std::max(1e-9, x.adc_seconds), x.pe_seconds,
                    static_cast<double>(x.pe_cycles) / std::max(1e-9, x.pe_seconds));
        if (x.pe_bypassed_jobs)
            std::printf("rtl: %llu PE jobs in a form the RTL does not have ran on the model\n",
                        static_cast<unsigned long long>(x.pe_bypassed_jobs));
    }
}

// The model run: every rank's share of the batches, merged on rank 0 into the report, --json and the
// exit code.
int run_model(const po::variables_map& vm) {
    const MpiSession& mpi = MpiSession::current();
    ArchConfig cfg;
    RunJobSpec spec;
    const std::optional<RunJobResult> merged = merged_on_rank_0<RunJobPart>(
        mpi,
        [&] {
            cfg = config_from(vm);
            spec = run_spec_from(vm, cfg);
            check_split_options(vm, mpi.size());
            spec.part = mpi.rank();
            spec.parts = mpi.size();
            note_ranks(mpi, spec.progress, "batches of images");
            spec.progress = spec.progress && mpi.root();
            return run_network_part(cfg, spec);
        },
        encode_run_share, decode_run_share, merge_run_shares, spec);
    if (!merged) return kExitOk;
    const RunJobResult& r = *merged;
    print_run_report(r, spec, cfg);
    print_protocol_counts(r.protocol);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), run_job_to_json(r, cfg, spec));
    if (spec.check_reference && r.agree != r.images) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the C++ reference on %d of %d images\n",
                     r.images - r.agree, r.images);
        return kExitMismatch;
    }
    if (r.fake_quant_match && !*r.fake_quant_match) {
        std::fprintf(stderr, "cimvp: the logits digest %s differs from the PyTorch fake-quant model's (%s)\n",
                     r.logits_digest.c_str(), r.expected_path.c_str());
        return kExitMismatch;
    }
    if (r.rtl && !r.rtl->ok()) {
        std::fprintf(stderr, "cimvp: the RTL disagrees with the models\n");
        return kExitMismatch;
    }
    return kExitOk;
}

// --trace F: every rank's share of the layers, merged on rank 0 into the report, --json and --csv.
int run_trace(const po::variables_map& vm) {
    const MpiSession& mpi = MpiSession::current();
    ArchConfig cfg;
    TraceJobSpec spec;
    const std::optional<TraceJobResult> merged = merged_on_rank_0<TraceJobPart>(
        mpi,
        [&] {
            cfg = config_from(vm);
            spec.trace_path = file_option(vm, "trace");
            spec.mapping = parse_trace_mapping(vm["map"].as<std::string>());
            spec.images = vm["images"].as<int>();
            spec.layers = vm["layers"].as<int>();
            spec.check_reference = !vm["no-check"].as<bool>();
            spec.resident = vm["resident"].as<bool>();
            spec.part = mpi.rank();
            spec.parts = mpi.size();
            note_ranks(mpi, !vm["quiet"].as<bool>(), "layers");
            spec.progress = !vm["quiet"].as<bool>() && mpi.root();
            return run_trace_part(cfg, spec);
        },
        encode_trace_share, decode_trace_share, merge_trace_shares, spec);
    if (!merged) return kExitOk;
    const TraceJobResult& r = *merged;
    const double n = std::max(1, r.images);
    const auto& e = r.total.energy;
    std::printf("trace %s: network %s (%s), %zu layers, %d image(s), map %s, config %s%s\n", r.trace_path.c_str(),
                r.network.c_str(), r.dataset.empty() ? "-" : r.dataset.c_str(), r.layers.size(), r.images,
                vm["map"].as<std::string>().c_str(), cfg.source.c_str(), r.resident ? ", weights resident" : "");
    std::printf("  %-24s %-8s %14s %12s %11s %5s %6s %6s %12s\n", "layer", "on", "MACs/image", "cycles", "latency us",
                "tiles", "t.util", "pe.util", "energy nJ");
    for (const auto& l : r.layers)
        std::printf("  %-24s %-8s %14.0f %12llu %11.3f %5d %6.3f %6.3f %12.3f\n", l.name.c_str(), l.mapped_to.c_str(),
                    l.macs_per_image, static_cast<unsigned long long>(l.stats.cycles), l.stats.sim_ns / n / 1000.0,
                    l.tiles_used, l.tile_utilization, l.pe_utilization, l.stats.energy.total() / n / 1e3);
    if (r.resident)
        std::printf("total: %lld MACs, %llu cycles, latency %.3f us per image, energy %.3f nJ per image (weights "
                    "resident on %lld tiles, programmed once before the first image: %.3f us, %.3f nJ, not in these "
                    "figures)\n",
                    static_cast<long long>(r.macs_per_image), static_cast<unsigned long long>(r.total.cycles),
                    r.total.sim_ns / n / 1000.0, e.total() / n / 1e3, static_cast<long long>(r.resident_tiles),
                    r.programming.sim_ns / 1000.0, r.programming.energy.total() / 1e3);
    else
        std::printf("total: %lld MACs, %llu cycles, latency %.3f us per image (programming %.3f us), energy %.3f nJ "
                    "per image\n",
                    static_cast<long long>(r.macs_per_image), static_cast<unsigned long long>(r.total.cycles),
                    r.total.sim_ns / n / 1000.0, r.programming.sim_ns / n / 1000.0, e.total() / n / 1e3);
    std::printf("energy per image by component: crossbar %.3f, adc %.3f, shift_add %.3f, pe %.3f, post_process %.3f, "
                "buffers %.3f, dma %.3f, dram %.3f nJ\n",
                e.crossbar / n / 1e3, e.adc / n / 1e3, e.shift_add / n / 1e3, e.pe / n / 1e3, e.post_process / n / 1e3,
                e.buffers / n / 1e3, e.dma / n / 1e3, e.dram / n / 1e3);
    if (spec.check_reference)
        std::printf("agreement with the C++ reference: %.6f (%d of %d images bit-exact on every layer)\n", r.agreement,
                    r.agree, r.images);
    std::printf("time (wall / CPU): platform %.3f / %.3f s", r.platform.wall, r.platform.cpu);
    if (spec.check_reference)
        std::printf(", C++ reference alone %.3f / %.3f s (platform/reference CPU %.2fx)", r.reference.wall,
                    r.reference.cpu, r.platform.cpu / std::max(1e-9, r.reference.cpu));
    std::printf("; data, mapping and ADC calibration %.3f / %.3f s; host pools %.3f / %.3f s\n", r.prepare.wall,
                r.prepare.cpu, r.host.wall, r.host.cpu);
    print_protocol_counts(r.protocol);
    if (vm.count("json")) write_json_file(vm["json"].as<std::string>(), trace_job_to_json(r, cfg, spec));
    if (vm.count("csv")) write_text_file(vm["csv"].as<std::string>(), trace_job_to_csv(r));
    if (spec.check_reference && r.agree != r.images) {
        std::fprintf(stderr, "cimvp: the platform disagrees with the reference\n");
        return kExitMismatch;
    }
    return kExitOk;
}

}  // namespace

int run_command(const Args& args) {
    po::options_description d("cimvp run [options]   (mpirun -np N cimvp run ...: split over N processes, "
                              "docs/scale.md)");
    add_model_options(d);
    // `d` keeps a pointer to `t` for its help: both live here.
    po::options_description t("with a workload trace (docs/trace-format.md)");
    add_trace_options(t);
    d.add(t);
    po::variables_map vm;
    if (parse_or_help(d, args, vm)) return kExitOk;
    if (vm.count("trace")) {
        check_trace_options(vm);
        return run_trace(vm);
    }
    check_model_options(vm);
    return run_model(vm);
}

}  // namespace cimvp::cli
