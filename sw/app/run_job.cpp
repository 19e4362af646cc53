#include "sw/app/run_job.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_swis_pe.h"
#include "sw/app/logits_checker.h"
#include "sw/app/progress.h"
#include "sw/compiler/network_compiler.h"
#include "sw/formats/digest.h"
#include "sw/formats/idx_dataset.h"
#include "sw/formats/model_file.h"
#include "sw/reference/network_reference.h"
#include "sw/support/parallel_for.h"
#include "sw/system/system.h"

namespace cimvp {

namespace {

// Training images the ADC calibration looks at when a layer must be recalibrated.
constexpr int kCalibrationImages = 256;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }


}  // namespace

int resolve_layer(const NetworkModel& model, const std::string& which, const std::string& flag) {
    std::string names;
    int convs = 0, fcs = 0;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const bool conv = model.layers[l].kind == LayerKind::kConv;
        const std::string kind = (conv ? "conv" : "fc") + std::to_string(conv ? ++convs : ++fcs);
        if (which == std::to_string(l) || which == model.layer_name(l) || which == kind) return static_cast<int>(l);
        names += (names.empty() ? "" : ", ") + std::to_string(l) + " = " + kind;
    }
    throw std::invalid_argument(flag + ": expected a layer index or name of the model (" + names + "), got '" +
                                which + "'");
}

std::string expected_results_path(const std::string& model_path) {
    const std::string ext = ".cimvp";
    std::string base = model_path;
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
        base.resize(base.size() - ext.size());
    return base + ".expected.json";
}

NetworkOptions network_options(const NetworkModel& model, const RunJobSpec& spec) {
    NetworkOptions o = spec.pe_layers == "default" ? NetworkOptions::defaults_for(model) : NetworkOptions{};
    const std::size_t n = model.layers.size();
    // all: every layer the PE array can run (a graph's grouped convs and tensor nodes cannot).
    if (spec.pe_layers == "all")
        for (std::size_t l = 0; l < n; ++l) {
            o.on_pe.resize(n, false);
            o.on_pe[l] = model.layers[l].is_matrix() && !model.layers[l].grouped();
        }
    if (spec.pe_layers != "default" && spec.pe_layers != "none" && spec.pe_layers != "all") {
        o.on_pe.assign(n, false);
        std::stringstream ss(spec.pe_layers);
        std::string item;
        while (std::getline(ss, item, ',')) {
            std::size_t pos = 0;
            int l = -1;
            try {
                l = std::stoi(item, &pos);
            } catch (const std::exception&) {
                pos = 0;
            }
            if (pos != item.size() || l < 0 || static_cast<std::size_t>(l) >= n)
                throw std::invalid_argument("--pe-layers: expected default, none, all or layer indices 0.." +
                                            std::to_string(n - 1) + " separated by commas, got '" + spec.pe_layers + "'");
            o.on_pe[static_cast<std::size_t>(l)] = true;
        }
    }
    if (spec.swis_shifts < 1 || spec.swis_shifts > swis::kShiftPositions)
        throw std::invalid_argument("--swis-shifts: expected 1..8, got " + std::to_string(spec.swis_shifts));
    o.swis_shifts = spec.swis_shifts;
    if (spec.swis_shifts < swis::kShiftPositions)
        for (std::size_t l = 0; l < n; ++l)
            if (o.pe(l) && model.layers[l].swis)
                throw std::invalid_argument("--swis-shifts: " + model.layer_name(l) +
                                            " runs the SWIS groups stored in the model file (format v2); "
                                            "expected no --swis-shifts (8) with a stored model");
    o.double_shift = !spec.single_shift;
    return o;
}

namespace {

// The test images of this process's share, checked against the model's input: a contiguous run of
// whole batches, so that every batch is the one a run of one process simulates (a layer's steps, and so
// its cycles, depend on the images in its batch). A share holds its own images only: the rest of the
// test set is read and dropped, not kept in every process of an MPI-parallel run (docs/hardening.md, "Soak").
ImageSet load_test_images(const NetworkModel& model, const RunJobSpec& spec) {
    if (model.in_c != 1 || model.in_bits != 8)
        throw ModelError(spec.model_path + ": input: expected 1 channel of 8-bit pixels for an IDX data set, got " +
                         std::to_string(model.in_c) + " channels of " + std::to_string(model.in_bits) + " bits");
    const int available = idx_dataset_count(spec.data_dir, "t10k");
    if (spec.limit > available)
        throw std::invalid_argument("--limit: expected 0 (all) or 1.." + std::to_string(available) +
                                    " (the test set's images), got " + std::to_string(spec.limit));
    const int count = spec.limit > 0 ? spec.limit : available;
    const ItemRange batches = even_share((count + spec.batch - 1) / spec.batch, spec.parts, spec.part);
    const int first = std::min(count, batches.first * spec.batch);
    ImageSet test = load_idx_dataset(spec.data_dir, "t10k", spec.limit, first,
                                     std::min(count, batches.last * spec.batch) - first);
    if (test.height != model.in_h || test.width != model.in_w)
        throw ModelError(spec.model_path + ": input: expected " + std::to_string(test.height) + "x" +
                         std::to_string(test.width) + " images (the data set's), the model takes " +
                         std::to_string(model.in_h) + "x" + std::to_string(model.in_w));
    return test;
}

// The system the run asks for: waveforms, RTL twins (the PE twin in the run's shift mode), recorder.
SystemOptions system_options(const RunJobSpec& spec, const NetworkOptions& options) {
    SystemOptions o;
    o.waveforms = spec.waveforms;
    o.rtl = spec.rtl;
    o.rtl_pe_mode = options.double_shift ? PeMode::kDoubleShift : PeMode::kSingleShift;
    o.rtl_vcd = spec.rtl_vcd;
    o.rtl_vcd_cycles = spec.rtl_vcd_cycles;
    o.record_commands = !spec.record_path.empty();
    return o;
}

// What the RTL twins did in the run, against the models' own counts.
RtlRunStats rtl_run_stats(System& sys, const ArchConfig& cfg) {
    const Platform& platform = sys.platform;
    const RtlAdcConverter& adc = *sys.rtl_adc();
    const RtlSwisPe& pe = *sys.rtl_pe();
    RtlRunStats x;
    x.adc_bits = cfg.adc.bits;
    x.conversions = adc.conversions();
    x.adc_cycles = adc.cycles() - sys.rtl_adc_reset_cycles();
    x.pe_outputs = platform.pe_array.counters().datapath_outputs;
    x.pe_groups = pe.groups();
    x.pe_cycles = pe.cycles();
    x.adc_seconds = adc.wall_seconds();
    x.pe_seconds = pe.wall_seconds();
    x.pe_mismatches = platform.pe_array.counters().datapath_mismatches;
    x.pe_bypassed_jobs = platform.pe_array.counters().datapath_bypassed_jobs;
    const auto& pc = platform.pe_array.counters().pe_cycles;
    x.model_pe_cycles = pc[static_cast<std::size_t>(PeMode::kSingleShift)] +
                        pc[static_cast<std::size_t>(PeMode::kDoubleShift)];
    for (const auto& t : platform.tiles) {
        x.model_conversions += t->adc.counters().conversions;
        x.adc_mismatches += t->adc.counters().converter_mismatches;
    }
    return x;
}

// One report per layer: where it ran, its placement and stored groups (its statistics come with the shares).
void describe_layers(RunJobResult& r, const ExecutionPlan& plan, const NetworkOptions& options) {
    const NetworkModel& model = plan.model;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerReport lr;
        lr.name = model.layer_name(l);
        lr.mapped_to = options.pe(l) ? "pe_array" : plan.layers[l].tensor ? "post_process" : "crossbar";
        lr.macs_per_image = static_cast<double>(L.K()) * L.M() * L.vectors();
        lr.scratch_on_chip = plan.layers[l].placement.scratch_on_chip;
        lr.images_per_step = plan.layers[l].placement.images_per_step;
        if (L.swis) {
            lr.swis = swis_storage_report(model, l, {});
            lr.swis_variant = swis::variant_name(L.swis->variant);
        }
        r.layers.push_back(lr);
    }
}

// The front end's digest of its integer logits over the whole test set (or over the first N images, for
// the N the file lists in logits_fnv1a64_first), when comparable: the same
// images through the same network (no ADC table recalibrated, no layer decomposed by --swis-shifts).
void compare_with_front_end(RunJobResult& r, const std::string& model_path) {
    r.expected_path = expected_results_path(model_path);
    std::ifstream ef(r.expected_path);
    if (ef && r.recalibrated.empty() && r.decomposed.empty()) {
        try {
            const auto j = nlohmann::json::parse(ef);
            const std::string first_n = std::to_string(r.images);
            if (j.contains("logits_fnv1a64") && j.value("images", 0) == r.images)
                r.fake_quant_match = j["logits_fnv1a64"].get<std::string>() == r.logits_digest;
            else if (j.contains("logits_fnv1a64_first") && j["logits_fnv1a64_first"].contains(first_n))
                r.fake_quant_match = j["logits_fnv1a64_first"][first_n].get<std::string>() == r.logits_digest;
        } catch (const nlohmann::json::exception& e) {
            throw ModelError(r.expected_path + ": " + e.what());
        }
    }
}

}  // namespace

RtlRunStats& RtlRunStats::operator+=(const RtlRunStats& o) {
    conversions += o.conversions;
    adc_cycles += o.adc_cycles;
    model_conversions += o.model_conversions;
    adc_mismatches += o.adc_mismatches;
    pe_outputs += o.pe_outputs;
    pe_groups += o.pe_groups;
    pe_cycles += o.pe_cycles;
    model_pe_cycles += o.model_pe_cycles;
    pe_mismatches += o.pe_mismatches;
    pe_bypassed_jobs += o.pe_bypassed_jobs;
    adc_seconds += o.adc_seconds;
    pe_seconds += o.pe_seconds;
    return *this;
}

RunJobPart run_network_part(const ArchConfig& cfg, const RunJobSpec& spec) {
    if (spec.parts < 1 || spec.part < 0 || spec.part >= spec.parts)
        throw std::invalid_argument("run: part " + std::to_string(spec.part) + " of " + std::to_string(spec.parts) +
                                    ": expected a part 0.." + std::to_string(spec.parts - 1));
    RunJobPart p;
    RunJobResult& r = p.run;
    RunShare& share = p.share;
    const NetworkModel model = load_model(spec.model_path);
    NetworkOptions options = network_options(model, spec);
    options.batch = spec.batch;
    check_model_fits(model, cfg, options.on_pe);
    const ImageSet test = load_test_images(model, spec);
    ImageSet calib;
    if (needs_calibration(model, cfg, options))
        calib = load_idx_dataset(spec.data_dir, "train", kCalibrationImages);
    const ExecutionPlan plan =
        compile_with_reference(model, cfg, options, calib.count ? calib.pixels.data() : nullptr, calib.count);
    r.model_name = model.name;
    r.scheme = model.scheme;
    r.resident = plan.resident;
    r.activations_on_chip = plan.activations_on_chip;
    r.tensors = tensor_placement(plan);
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (plan.layers[l].adc_recalibrated) r.recalibrated.push_back(model.layer_name(l));
    // Decomposed at fewer than 8 shifts, an int8 layer computes other weights than the front end's.
    if (options.swis_shifts < swis::kShiftPositions)
        for (std::size_t l = 0; l < model.layers.size(); ++l)
            if (options.pe(l) && !model.layers[l].swis) r.decomposed.push_back(model.layer_name(l));

    const int vcd_layer = spec.waveforms.layer.empty() ? -1 : resolve_layer(model, spec.waveforms.layer, "--vcd-layer");
    if (spec.waveforms.image && *spec.waveforms.image >= static_cast<std::uint64_t>(test.count))
        throw std::invalid_argument("--vcd-image: expected an image index 0.." + std::to_string(test.count - 1) +
                                    " of the images run, got " + std::to_string(*spec.waveforms.image));
    share.first_image = test.first;  // this process's images (load_test_images)
    share.images = test.held;
    const int end = test.first + test.held;
    System sys("system", cfg, system_options(spec, options));
    Platform& platform = sys.platform;
    Waveforms* waves = sys.waveforms();
    // The host program runs the network and hands over each batch's logits; the checker counts and
    // compares them on a thread of its own, beside the simulation.
    Progress progress(spec.progress, share.images, "images");
    const NetworkReference reference(plan);
    LogitsChecker checker(spec.check_reference ? &reference : nullptr, test, model.num_classes, progress);
    const auto t_run = Clock::now();
    sys.run([&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        NetworkRunner runner(driver, plan, [&] { return platform.energy_meter(); });
        if (waves) {
            driver.set_waveforms(waves->recorder.get(), waves->list);
            runner.set_layer_hook([&](std::size_t l, std::uint64_t first, int n, bool begin) {
                waves->layer_list(spec.waveforms, vcd_layer, l, first, n, begin, cpu.now());
                // --vcd-layer and --vcd-image select the RTL's clocks too (docs/rtl.md).
                if (sys.rtl_vcd_gated() && selects(spec.waveforms, vcd_layer, l, first, n)) sys.gate_rtl_vcd(begin);
            });
        }
        runner.program();
        for (int first = share.first_image; first < end; first += spec.batch) {
            const int n = std::min(spec.batch, end - first);
            std::vector<std::int64_t> logits = runner.run_batch(test.image(first), n, static_cast<std::uint64_t>(first));
            share.batches.push_back(runner.batch_stats());
            checker.submit(first, std::move(logits));
        }
        r.programming = runner.programming();
    });
    share.wall_s = since(t_run);
    share.protocol = sys.protocol_counts();
    LogitsChecker::Counts counts = checker.finish();
    share.correct = counts.correct;
    share.agree = counts.agree;
    share.reference_s = counts.reference_s;
    share.logits = std::move(counts.logits);
    if (!spec.record_path.empty())
        sys.command_recorder()->write(spec.record_path,
                                      {{"command", "run"}, {"model", spec.model_path}, {"model_name", model.name},
                                       {"images", test.count}, {"batch", spec.batch}, {"pe_layers", spec.pe_layers},
                                       {"swis_shifts", spec.swis_shifts}, {"single_shift", spec.single_shift}},
                                      sc_core::sc_time_stamp());

    if (spec.rtl) share.rtl = rtl_run_stats(sys, cfg);
    r.images = test.count;
    describe_layers(r, plan, options);
    return p;
}

RunJobResult merge_run_shares(RunJobResult r, const std::vector<RunShare>& shares, const RunJobSpec& spec) {
    std::vector<RunStats> layer_stats(r.layers.size());
    Fnv1a64 digest;
    int next = 0;
    for (const RunShare& s : shares) {
        if (s.first_image != next || s.images < 0)
            throw std::logic_error("merge_run_shares: a share of images " + std::to_string(s.first_image) + ".. where " +
                                   std::to_string(next) + ".. was expected");
        next += s.images;
        r.correct += s.correct;
        r.agree += s.agree;
        r.wall_s = std::max(r.wall_s, s.wall_s);
        r.reference_wall_s += s.reference_s;
        digest.add(s.logits.data(), s.logits.size() * sizeof(std::int64_t));
        for (const std::vector<RunStats>& batch : s.batches) {
            if (batch.size() != layer_stats.size())
                throw std::logic_error("merge_run_shares: a batch of " + std::to_string(batch.size()) +
                                       " layers, expected " + std::to_string(layer_stats.size()));
            for (std::size_t l = 0; l < batch.size(); ++l) layer_stats[l] += batch[l];
        }
        if (s.rtl) {
            if (!r.rtl) r.rtl = RtlRunStats{};
            r.rtl->adc_bits = s.rtl->adc_bits;
            *r.rtl += *s.rtl;
        }
        if (s.protocol) (r.protocol ? *r.protocol : r.protocol.emplace()).add_share(*s.protocol);
    }
    if (next != r.images)
        throw std::logic_error("merge_run_shares: shares of " + std::to_string(next) + " images, expected " +
                               std::to_string(r.images));
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        r.layers[l].stats = layer_stats[l];
        r.total += layer_stats[l];
    }
    r.accuracy = r.images ? static_cast<double>(r.correct) / r.images : 0.0;
    r.agreement = spec.check_reference && r.images ? static_cast<double>(r.agree) / r.images : 0.0;
    r.logits_digest = digest.hex();
    compare_with_front_end(r, spec.model_path);
    return r;
}

RunJobResult run_network_job(const ArchConfig& cfg, const RunJobSpec& spec) {
    RunJobPart p = run_network_part(cfg, spec);
    return merge_run_shares(std::move(p.run), {std::move(p.share)}, spec);
}

}  // namespace cimvp
