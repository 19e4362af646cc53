#include "sw/app/trace_job.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <memory>

#include "hw/command_format.h"
#include "sw/contract/tensor_ops.h"
#include "sw/driver/network_runner.h"
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

std::int64_t ceil_to(std::int64_t x, std::int64_t step) { return (x + step - 1) / step * step; }

}  // namespace

namespace {

// A pool or add layer of every image as tensor-op jobs on the post-processing unit (docs/trace-format.md):
// the drawn inputs written to DRAM, a padded pool's maps copied by the DMA into a zeroed map with the
// padding around them (zeros change neither a max of codes nor the average's window sum), one
// TensorOpDescriptor for all images; their outputs (images x C x OH x OW) go to `out`.
RunStats run_ppu_layer(Driver& driver, Platform& platform, const NetworkTrace& trace, std::size_t l, int images,
                       std::vector<std::uint8_t>& out) {
    const TraceLayer& L = trace.layers[l];
    const bool is_add = L.type == TraceLayerType::kAdd;
    const std::uint64_t plane = static_cast<std::uint64_t>(L.in_h) * L.in_w;
    const std::uint64_t size = static_cast<std::uint64_t>(L.in_c) * plane;
    const std::uint64_t n = static_cast<std::uint64_t>(images);
    if (n > 65535 || L.in_c > 65535 || L.in_h + 2 * L.padding > 65535 || L.in_w + 2 * L.padding > 65535)
        throw TraceError(trace.source + ":" + std::to_string(L.line) + ": in: expected at most 65535 channels, rows, " +
                         "columns and images for a tensor-op job");
    std::vector<std::uint8_t> a(size * n), b(is_add ? size * n : 0);
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto x = host_layer_input(trace, l, i);
        std::copy_n(x.begin(), size, a.begin() + static_cast<std::ptrdiff_t>(i * size));
        if (is_add) std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(size), size, b.begin() + static_cast<std::ptrdiff_t>(i * size));
    }
    std::vector<Command> cmds;
    TensorOpDescriptor d;
    d.src_a = driver.alloc(a.size());
    driver.write(d.src_a, a.data(), a.size());
    d.channels = static_cast<std::uint16_t>(L.in_c);
    d.height = static_cast<std::uint16_t>(L.in_h);
    d.width = static_cast<std::uint16_t>(L.in_w);
    d.images = static_cast<std::uint16_t>(n);
    d.shift = 0;
    d.a_out_bits = 8;  // mult 1, bias 0, shift 0: the codes themselves; an add saturates at 255
    std::uint64_t out_image = size;
    if (is_add) {
        d.op = static_cast<std::uint8_t>(TensorOp::kAdd);
        d.src_b = driver.alloc(b.size());
        driver.write(d.src_b, b.data(), b.size());
    } else {
        d.op = static_cast<std::uint8_t>(TensorOp::kScale);
        d.pool = TensorOpDescriptor::pool_field(L.pool == TracePool::kMax ? 1 : 2, L.kernel, L.stride);
        out_image = static_cast<std::uint64_t>(L.in_c) * L.out_h() * L.out_w();
        if (L.padding > 0) {
            const std::uint64_t p = static_cast<std::uint64_t>(L.padding);
            const std::uint64_t ph = L.in_h + 2 * p, pw = L.in_w + 2 * p;
            const std::vector<std::uint8_t> zeros(static_cast<std::size_t>(L.in_c * ph * pw * n), 0);
            const std::uint64_t padded = driver.alloc(zeros.size());
            driver.write(padded, zeros.data(), zeros.size());
            for (std::uint64_t i = 0; i < n; ++i)
                for (int c = 0; c < L.in_c; ++c) {
                    DmaDescriptor g;
                    g.src = d.src_a + i * size + static_cast<std::uint64_t>(c) * plane;
                    g.dst = padded + ((i * L.in_c + static_cast<std::uint64_t>(c)) * ph + p) * pw + p;
                    g.row_bytes = static_cast<std::uint32_t>(L.in_w);
                    g.rows = static_cast<std::uint32_t>(L.in_h);
                    g.src_stride = static_cast<std::uint32_t>(L.in_w);
                    g.dst_stride = static_cast<std::uint32_t>(pw);
                    cmds.push_back(make_dma(g));
                }
            d.src_a = padded;
            d.height = static_cast<std::uint16_t>(ph);
            d.width = static_cast<std::uint16_t>(pw);
        }
    }
    d.dst = driver.alloc(out_image * n);
    const std::uint64_t desc = driver.alloc(sizeof d);
    driver.write(desc, &d, sizeof d);
    cmds.push_back(make_tensor_op(desc));
    cmds.push_back(Command{});
    const RunStats r = run_measured(driver, cmds, [&] { return platform.energy_meter(); });
    out.resize(out_image * n);
    driver.read(d.dst, out.data(), out.size());
    return r;
}

// One platform run of a stage: its plan and inputs, compiled before the simulation, and
// the outputs the host program read back (logits, or the hidden layer's activations).
struct StageRun {
    std::unique_ptr<ExecutionPlan> plan;
    std::vector<std::vector<std::uint8_t>> inputs;        // per image
    std::vector<std::vector<std::int64_t>> logits;        // per image, when the stage writes logits
    std::vector<std::vector<std::uint8_t>> activations;   // per image, otherwise
};

}  // namespace

NetworkTrace load_trace_layers(const std::string& path, int layers) {
    NetworkTrace trace = load_trace(path);
    if (layers < 0 || static_cast<std::size_t>(layers) > trace.layers.size())
        throw std::invalid_argument("--layers: expected 0 (all) or 1.." + std::to_string(trace.layers.size()) +
                                    " (the trace's layers), got " + std::to_string(layers));
    if (layers > 0) trace.layers.resize(static_cast<std::size_t>(layers));
    return trace;
}

std::vector<int> trace_layer_parts(const NetworkTrace& trace, int images, int parts) {
    // What a weight or an input element costs (drawn, moved to DRAM and on, programmed or compared) in
    // MACs of one image: ResNet-20's layers on the crossbar (docs/scale.md).
    constexpr double kMacsPerByte = 25;
    const std::size_t n = trace.layers.size();
    std::vector<double> cost(n);
    for (std::size_t l = 0; l < n; ++l) {
        const TraceLayer& L = trace.layers[l];
        const double elements = static_cast<double>(L.in_c) * L.in_h * L.in_w;
        cost[l] = static_cast<double>(L.macs()) * images +
                  kMacsPerByte * (static_cast<double>(L.weight_count()) + elements * images);
    }
    // Longest first, each to the part with the least so far (the lowest part on a tie).
    std::vector<std::size_t> order(n);
    for (std::size_t l = 0; l < n; ++l) order[l] = l;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
    std::vector<double> load(static_cast<std::size_t>(std::max(1, parts)), 0.0);
    std::vector<int> part(n, 0);
    for (std::size_t l : order) {
        const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        part[l] = static_cast<int>(least);
        load[least] += cost[l];
    }
    return part;
}

TraceJobPart run_trace_part(const ArchConfig& cfg, const TraceJobSpec& spec) {
    if (spec.images < 1) throw std::invalid_argument("--images: expected at least 1, got " + std::to_string(spec.images));
    if (spec.parts < 1 || spec.part < 0 || spec.part >= spec.parts)
        throw std::invalid_argument("run: part " + std::to_string(spec.part) + " of " + std::to_string(spec.parts) +
                                    ": expected a part 0.." + std::to_string(spec.parts - 1));
    const Stopwatch t_build;
    const NetworkTrace trace = load_trace_layers(spec.trace_path, spec.layers);
    const std::vector<int> owner = trace_layer_parts(trace, spec.images, spec.parts);
    const auto mine = [&](std::size_t l) { return owner[l] == spec.part; };
    std::vector<bool> shifts_of(trace.layers.size());
    for (std::size_t l = 0; l < trace.layers.size(); ++l) shifts_of[l] = mine(l);
    const TraceWorkload work = build_trace_workload(trace, cfg, spec.mapping, shifts_of);
    // Weights-resident: every stage's tiles from its shape, the same in every process.
    ResidentTiles resident;
    if (spec.resident) {
        resident = plan_resident_tiles(work, cfg);
        check_resident_tiles(resident, cfg, spec.trace_path);
    }

    TraceJobPart part;
    TraceJobResult& r = part.run;
    r.network = trace.network.name;
    r.dataset = trace.network.dataset;
    r.trace_path = spec.trace_path;
    r.images = spec.images;
    r.resident = spec.resident;
    r.resident_tiles = resident.total;
    for (std::size_t l = 0; l < trace.layers.size(); ++l) r.macs_per_image += work.layer_macs(l);
    r.prepare = t_build.elapsed();
    std::vector<TraceLayerReport> layers(trace.layers.size());

    // Every stage of this process's layers compiled, with its inputs drawn, before the simulation.
    std::vector<StageRun> runs(work.stages.size());
    for (std::size_t l = 0; l < trace.layers.size(); ++l) {
        if (!mine(l)) continue;
        const TraceLayer& L = trace.layers[l];
        TraceLayerReport& lr = layers[l];
        lr.name = L.name;
        lr.type = trace_name(L.type);
        lr.macs_per_image = static_cast<double>(work.layer_macs(l));
        if (!L.has_weights()) lr.mapped_to = host_layer_on_ppu(L) ? "post_process" : "host";
        if (spec.resident && !work.layer_stages[l].empty() && resident.layer_tiles[l] > 0) {
            lr.resident_tiles = resident.layer_tiles[l];
            lr.first_tile = resident.first_tile[work.layer_stages[l].front()];
        }
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
            if (spec.resident) options.first_tile = resident.first_tile[si];
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
            if (spec.resident && !s.on_pe &&
                (!plan.resident || plan.layers[0].mapping.tile_offset != resident.first_tile[si] ||
                 plan.layers[0].mapping.tiles_used() != resident.stage_tiles[si]))
                throw std::logic_error("trace: stage " + std::to_string(si) + " of " + L.name +
                                       " was not placed on its resident tiles");
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
                useful_cells += static_cast<double>(work.stage_macs(si)) / pixels * m.cols_per_out;
                cells += static_cast<double>(m.row_tiles) * m.col_tiles * cfg.crossbar.rows * cfg.crossbar.cols;
            }
            lr.scratch_on_chip_stages += plan.layers[0].placement.scratch_on_chip;
            lr.activations_on_chip_stages += plan.activations_on_chip;
        }
        lr.tile_utilization = cells > 0 ? useful_cells / cells : 0.0;
        lr.pe_utilization = pe_slots > 0 ? lr.macs_per_image / pe_slots : 0.0;
    }

    // The host program: pool and add as tensor-op jobs on the post-processing unit (or on the host),
    // every stage on the platform, outputs read back.
    System sys("system", cfg);
    Platform& platform = sys.platform;
    std::vector<std::vector<std::uint8_t>> ppu_out(trace.layers.size());  // per layer: every image's output
    // Memory the config does not have, a field a descriptor cannot hold: name the trace line.
    const auto named_error = [&](std::size_t l, const DriverError& e) {
        const TraceLayer& L = trace.layers[l];
        return TraceError(trace.source + ":" + std::to_string(L.line) + ": layer " + L.name + ": " + e.what());
    };
    sys.run([&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        // Weights-resident: every stage's weights onto its own tiles before the first image; nothing
        // reprograms them, so each runner below finds its stage's weights there.
        for (std::size_t l = 0; spec.resident && l < trace.layers.size(); ++l) {
            if (!mine(l) || work.layer_stages[l].empty()) continue;
            TraceLayerReport& lr = layers[l];
            const Stopwatch t_program;
            for (std::size_t si : work.layer_stages[l]) {
                const Driver::Mark mark = driver.mark();
                try {
                    NetworkRunner runner(driver, *runs[si].plan, [&] { return platform.energy_meter(); });
                    runner.program();
                    lr.programming += runner.programming();
                } catch (const DriverError& e) {
                    throw named_error(l, e);
                }
                driver.release(mark);
            }
            lr.platform += t_program.elapsed();
            if (spec.progress && lr.resident_tiles > 0) {
                std::fprintf(stderr, "[%zu/%zu] %-22s programmed on tiles %d..%d in %.3f s (CPU)\n", l + 1,
                             trace.layers.size(), lr.name.c_str(), lr.first_tile,
                             lr.first_tile + lr.resident_tiles - 1, t_program.elapsed().cpu);
                std::fflush(stderr);
            }
        }
        for (std::size_t l = 0; l < trace.layers.size(); ++l) {
            if (!mine(l)) continue;
            const TraceLayer& L = trace.layers[l];
            TraceLayerReport& lr = layers[l];
            if (!L.has_weights() && host_layer_on_ppu(L)) {
                const Stopwatch t_run;
                const Driver::Mark mark = driver.mark();
                try {
                    lr.stats = run_ppu_layer(driver, platform, trace, l, spec.images, ppu_out[l]);
                } catch (const DriverError& e) {
                    throw named_error(l, e);
                }
                driver.release(mark);
                lr.platform += t_run.elapsed();
            } else if (!L.has_weights()) {
                // A pool with a window above 8 runs on the host: no platform cycles or energy (docs/trace-format.md).
                const Stopwatch t0;
                for (int i = 0; i < spec.images; ++i)
                    lr.host_ops += run_host_layer(trace, l, static_cast<std::uint64_t>(i)).ops;
                lr.host = t0.elapsed();
            }
            for (std::size_t si : work.layer_stages[l]) {
                StageRun& run = runs[si];
                const bool logits = work.stages[si].logits;
                const Stopwatch t_run;
                const Driver::Mark mark = driver.mark();
                try {
                    NetworkRunner runner(driver, *run.plan, [&] { return platform.energy_meter(); },
                                         spec.resident ? NetworkRunner::Tiles::kProgrammed
                                                       : NetworkRunner::Tiles::kToProgram);
                    runner.program();  // resident: a no-op, the stage was programmed before the first image
                    for (int i = 0; i < spec.images; ++i) {
                        const auto& x = run.inputs[static_cast<std::size_t>(i)];
                        auto out = runner.run_batch(x.data(), 1, static_cast<std::uint64_t>(i));
                        if (logits)
                            run.logits.push_back(std::move(out));
                        else
                            run.activations.push_back(runner.hidden_output(1));
                    }
                    lr.stats += runner.layer_stats()[0];
                    lr.stats += runner.programming();
                    lr.programming += runner.programming();
                } catch (const DriverError& e) {
                    throw named_error(l, e);
                }
                driver.release(mark);
                lr.platform += t_run.elapsed();
            }
            if (spec.progress) {
                std::fprintf(stderr, "[%zu/%zu] %-22s %-8s %8.3f s platform (CPU)\n", l + 1, trace.layers.size(),
                             L.name.c_str(), lr.mapped_to.c_str(), lr.platform.cpu);
                std::fflush(stderr);
            }
        }
    });
    part.share.protocol = sys.protocol_counts();
    // The C++ reference on the same plans and inputs, after the simulation.
    for (std::size_t l = 0; l < trace.layers.size(); ++l) {
        if (!mine(l)) continue;
        TraceLayerReport& lr = layers[l];
        std::vector<bool>& layer_ok = lr.image_agrees;
        layer_ok.assign(static_cast<std::size_t>(spec.images), true);
        if (spec.check_reference && !ppu_out[l].empty()) {
            // A pool or add on the post-processing unit against the host's computation.
            const Stopwatch tr;
            const std::size_t bytes = ppu_out[l].size() / static_cast<std::size_t>(spec.images);
            for (int i = 0; i < spec.images; ++i) {
                const auto want = run_host_layer(trace, l, static_cast<std::uint64_t>(i)).output;
                const auto at = ppu_out[l].begin() + static_cast<std::ptrdiff_t>(bytes * static_cast<std::size_t>(i));
                if (want.size() != bytes || !std::equal(want.begin(), want.end(), at))
                    layer_ok[static_cast<std::size_t>(i)] = false;
            }
            lr.reference += tr.elapsed();
        }
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
                    if (!same) layer_ok[k] = false;
                }
                lr.reference += tr.elapsed();
            }
            if (spec.progress && !work.layer_stages[l].empty()) {
                std::fprintf(stderr, "[%zu/%zu] %-22s %-8s %8.3f s reference (CPU)\n", l + 1, trace.layers.size(),
                             trace.layers[l].name.c_str(), lr.mapped_to.c_str(), lr.reference.cpu);
                std::fflush(stderr);
            }
        }
        lr.agree = static_cast<int>(std::count(layer_ok.begin(), layer_ok.end(), true));
        part.share.layers.push_back(l);
        part.share.reports.push_back(std::move(lr));
    }
    r.layers.resize(trace.layers.size());
    return part;
}

TraceJobResult merge_trace_shares(TraceJobResult r, const std::vector<TraceShare>& shares, const TraceJobSpec& spec) {
    std::vector<bool> given(r.layers.size(), false);
    for (const TraceShare& s : shares) {
        if (s.protocol) (r.protocol ? *r.protocol : r.protocol.emplace()).add_share(*s.protocol);
        for (std::size_t k = 0; k < s.layers.size(); ++k) {
            const std::size_t l = s.layers[k];
            if (l >= r.layers.size() || given[l] || k >= s.reports.size() ||
                s.reports[k].image_agrees.size() != static_cast<std::size_t>(r.images))
                throw std::logic_error("merge_trace_shares: layer " + std::to_string(l) + " of " +
                                       std::to_string(r.layers.size()) + " given twice or malformed");
            given[l] = true;
            r.layers[l] = s.reports[k];
        }
    }
    std::vector<bool> image_ok(static_cast<std::size_t>(r.images), true);
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        if (!given[l])
            throw std::logic_error("merge_trace_shares: no share ran layer " + std::to_string(l));
        const TraceLayerReport& lr = r.layers[l];
        r.total += lr.stats;
        r.programming += lr.programming;
        r.prepare += lr.prepare;
        r.platform += lr.platform;
        r.host += lr.host;
        if (spec.check_reference) r.reference += lr.reference;
        for (std::size_t i = 0; i < image_ok.size(); ++i)
            if (!lr.image_agrees[i]) image_ok[i] = false;
    }
    r.agree = static_cast<int>(std::count(image_ok.begin(), image_ok.end(), true));
    r.agreement = spec.check_reference ? static_cast<double>(r.agree) / r.images : 0.0;
    return r;
}

TraceJobResult run_trace_job(const ArchConfig& cfg, const TraceJobSpec& spec) {
    TraceJobPart p = run_trace_part(cfg, spec);
    return merge_trace_shares(std::move(p.run), {std::move(p.share)}, spec);
}

}  // namespace cimvp
