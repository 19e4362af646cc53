#include "sw/app/trace_job.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <memory>

#include "sw/reference/network_reference.h"
#include "sw/system/system.h"

namespace cimvp {

namespace {

// Draw index of the inputs the ADC tables are calibrated on: far from the run's images.
constexpr std::uint64_t kCalibrationImage = std::uint64_t{1} << 32;
// Input vectors of that image the per-column ADC calibration looks at (evenly spaced).
constexpr int kCalibrationVectors = 1024;

using Clock = std::chrono::steady_clock;

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Wall and process CPU time since construction (the machine may be shared: CPU time is the steadier figure).
struct Stopwatch {
    Clock::time_point wall0 = Clock::now();
    double cpu0 = cpu_now();
    TraceTimes elapsed() const {
        return {std::chrono::duration<double>(Clock::now() - wall0).count(), cpu_now() - cpu0};
    }
};

void add(RunStats& to, const RunStats& s) {
    to.sim_ns += s.sim_ns;
    to.cycles += s.cycles;
    to.commands += s.commands;
    to.energy += s.energy;
}

std::int64_t ceil_to(std::int64_t x, std::int64_t step) { return (x + step - 1) / step * step; }

}  // namespace

namespace {

// One platform run of a stage: its plan and inputs, compiled before the simulation, and
// the outputs the host program read back (logits, or the hidden layer's activations).
struct StageRun {
    std::unique_ptr<ExecutionPlan> plan;
    std::vector<std::vector<std::uint8_t>> inputs;        // per image
    std::vector<std::vector<std::int64_t>> logits;        // per image, when the stage writes logits
    std::vector<std::vector<std::uint8_t>> activations;   // per image, otherwise
};

}  // namespace

TraceJobResult run_trace_job(const ArchConfig& cfg, const TraceJobSpec& spec) {
    if (spec.images < 1) throw std::invalid_argument("--images: expected at least 1, got " + std::to_string(spec.images));
    const Stopwatch t_build;
    NetworkTrace trace = load_trace(spec.trace_path);
    if (spec.layers < 0 || static_cast<std::size_t>(spec.layers) > trace.layers.size())
        throw std::invalid_argument("--layers: expected 0 (all) or 1.." + std::to_string(trace.layers.size()) +
                                    " (the trace's layers), got " + std::to_string(spec.layers));
    if (spec.layers > 0) trace.layers.resize(static_cast<std::size_t>(spec.layers));
    const TraceWorkload work = build_trace_workload(trace, cfg, spec.mapping);

    TraceJobResult r;
    r.network = trace.network.name;
    r.dataset = trace.network.dataset;
    r.trace_path = spec.trace_path;
    r.images = spec.images;
    for (std::size_t l = 0; l < trace.layers.size(); ++l) r.macs_per_image += work.layer_macs(l);
    r.prepare = t_build.elapsed();
    r.layers.resize(trace.layers.size());

    // Every stage compiled, with its inputs drawn, before the simulation.
    std::vector<StageRun> runs(work.stages.size());
    for (std::size_t l = 0; l < trace.layers.size(); ++l) {
        const TraceLayer& L = trace.layers[l];
        TraceLayerReport& lr = r.layers[l];
        lr.name = L.name;
        lr.type = trace_name(L.type);
        lr.macs_per_image = static_cast<double>(work.layer_macs(l));
        if (!L.has_weights()) lr.mapped_to = "host";
        double useful_cells = 0, cells = 0, pe_slots = 0;
        for (std::size_t si : work.layer_stages[l]) {
            const TraceStage& s = work.stages[si];
            StageRun& run = runs[si];
            lr.mapped_to = s.on_pe ? "pe_array" : "crossbar";
            ++lr.stages;
            const Stopwatch t_prep;
            NetworkOptions options;
            options.on_pe.assign(1, s.on_pe);
            options.calibration_vectors = kCalibrationVectors;
            options.batch = 1;
            const NetworkModel model = work.stage_model(si);
            std::vector<std::uint8_t> calib;
            try {
                if (needs_calibration(model, cfg, options)) {
                    calib = work.stage_input(si, kCalibrationImage);
                    ++lr.recalibrated_stages;
                }
                run.plan = std::make_unique<ExecutionPlan>(compile_with_reference(
                    model, cfg, options, calib.empty() ? nullptr : calib.data(), calib.empty() ? 0 : 1));
            } catch (const std::exception& e) {
                // A layer that does not fit the hardware (crossbar tiles, PE descriptors): name the trace line.
                throw TraceError(trace.source + ":" + std::to_string(L.line) + ": map: expected a layer that " +
                                 "the " + (s.on_pe ? "PE array" : "crossbar tiles") + " can run: " + e.what());
            }
            for (int i = 0; i < spec.images; ++i)
                run.inputs.push_back(work.stage_input(si, static_cast<std::uint64_t>(i)));
            lr.prepare += t_prep.elapsed();

            const ExecutionPlan& plan = *run.plan;
            const NetworkLayer& N = plan.layer(0);
            if (s.on_pe) {
                const std::int64_t V = N.vectors();
                pe_slots += static_cast<double>(ceil_to(V, cfg.pe_array.rows)) *
                            static_cast<double>(ceil_to(N.M(), cfg.pe_array.cols)) * N.K();
            } else {
                const LayerMapping& m = plan.layers[0].mapping;
                lr.tiles_used = std::max(lr.tiles_used, m.tiles_used());
                lr.passes = std::max(lr.passes, m.passes);
                // Weight cells: the block's own kernels of a depthwise layer, not the zeros around them.
                const double pixels = static_cast<double>(N.vectors());
                useful_cells += static_cast<double>(work.stage_macs(si)) / pixels * m.slices;
                cells += static_cast<double>(m.row_tiles) * m.col_tiles * cfg.crossbar.rows * cfg.crossbar.cols;
            }
            lr.scratch_on_chip_stages += plan.layers[0].placement.scratch_on_chip;
            lr.activations_on_chip_stages += plan.activations_on_chip;
        }
        lr.tile_utilization = cells > 0 ? useful_cells / cells : 0.0;
        lr.pe_utilization = pe_slots > 0 ? lr.macs_per_image / pe_slots : 0.0;
        r.prepare += lr.prepare;
    }

    // The host program: pool and add on the host, every stage on the platform, outputs read back.
    System sys("system", cfg);
    Platform& platform = sys.platform;
    sys.run([&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        for (std::size_t l = 0; l < trace.layers.size(); ++l) {
            const TraceLayer& L = trace.layers[l];
            TraceLayerReport& lr = r.layers[l];
            if (!L.has_weights()) {
                // Pool and add run on the host: no platform cycles or energy (docs/trace-format.md).
                const Stopwatch t0;
                for (int i = 0; i < spec.images; ++i)
                    lr.host_ops += run_host_layer(trace, l, static_cast<std::uint64_t>(i)).ops;
                lr.host = t0.elapsed();
                r.host += lr.host;
            }
            for (std::size_t si : work.layer_stages[l]) {
                StageRun& run = runs[si];
                const bool logits = work.stages[si].logits;
                const Stopwatch t_run;
                const Driver::Mark mark = driver.mark();
                {
                    NetworkRunner runner(driver, *run.plan, [&] { return platform.energy(); });
                    runner.program();
                    for (int i = 0; i < spec.images; ++i) {
                        const auto& x = run.inputs[static_cast<std::size_t>(i)];
                        auto out = runner.run_batch(x.data(), 1, static_cast<std::uint64_t>(i));
                        if (logits)
                            run.logits.push_back(std::move(out));
                        else
                            run.activations.push_back(runner.hidden_output(1));
                    }
                    add(lr.stats, runner.layer_stats()[0]);
                    add(lr.stats, runner.programming());
                    add(lr.programming, runner.programming());
                }
                driver.release(mark);
                lr.platform += t_run.elapsed();
            }
            add(r.total, lr.stats);
            add(r.programming, lr.programming);
            r.platform += lr.platform;
            if (spec.progress) {
                std::fprintf(stderr, "[%zu/%zu] %-22s %-8s %8.3f s platform (CPU)\n", l + 1, trace.layers.size(),
                             L.name.c_str(), lr.mapped_to.c_str(), lr.platform.cpu);
                std::fflush(stderr);
            }
        }
    });
    // The C++ reference on the same plans and inputs, after the simulation.
    std::vector<char> image_ok(static_cast<std::size_t>(spec.images), 1);
    for (std::size_t l = 0; l < trace.layers.size(); ++l) {
        TraceLayerReport& lr = r.layers[l];
        std::vector<char> layer_ok(static_cast<std::size_t>(spec.images), 1);
        if (spec.check_reference) {
            for (std::size_t si : work.layer_stages[l]) {
                const StageRun& run = runs[si];
                const NetworkReference ref(*run.plan);
                const Stopwatch tr;
                for (int i = 0; i < spec.images; ++i) {
                    const auto k = static_cast<std::size_t>(i);
                    const auto& x = run.inputs[k];
                    const auto image = static_cast<std::uint64_t>(i);
                    const bool same = work.stages[si].logits
                                          ? ref.logits(x.data(), image) == run.logits[k]
                                          : ref.layer_input(x.data(), 1, image) == run.activations[k];
                    if (!same) layer_ok[k] = 0;
                }
                lr.reference += tr.elapsed();
            }
            r.reference += lr.reference;
            if (spec.progress && !work.layer_stages[l].empty()) {
                std::fprintf(stderr, "[%zu/%zu] %-22s %-8s %8.3f s reference (CPU)\n", l + 1, trace.layers.size(),
                             trace.layers[l].name.c_str(), lr.mapped_to.c_str(), lr.reference.cpu);
                std::fflush(stderr);
            }
        }
        for (int i = 0; i < spec.images; ++i) {
            lr.agree += layer_ok[static_cast<std::size_t>(i)] != 0;
            if (!layer_ok[static_cast<std::size_t>(i)]) image_ok[static_cast<std::size_t>(i)] = 0;
        }
    }
    for (char ok : image_ok) r.agree += ok != 0;
    r.agreement = spec.check_reference ? static_cast<double>(r.agree) / r.images : 0.0;
    return r;
}

}  // namespace cimvp
