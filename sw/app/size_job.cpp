#include "sw/app/size_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "hw/cost_model.h"
#include "sw/app/results_json.h"
#include "sw/formats/config_loader.h"

namespace cimvp {

namespace {

// The resident trace run of a size job.
TraceJobSpec resident_run(const SizeJobSpec& spec) {
    TraceJobSpec run;
    run.trace_path = spec.trace_path;
    run.mapping = spec.mapping;
    run.images = spec.images;
    run.layers = spec.layers;
    run.check_reference = spec.check_reference;
    run.progress = spec.progress;
    run.resident = true;
    return run;
}

}  // namespace

SizedChip size_chip(const ArchConfig& cfg, const NetworkTrace& trace, TraceMapping mapping) {
    // Shapes only: no layer's requantization shift (which draws its weights) is computed.
    const TraceWorkload work = build_trace_workload(trace, cfg, mapping, std::vector<bool>(trace.layers.size(), false));
    SizedChip chip;
    chip.cfg = cfg;
    chip.tiles = plan_resident_tiles(work, cfg);
    const std::int64_t tiles = std::max<std::int64_t>(config_limits::kMinTiles, chip.tiles.total);
    if (tiles > config_limits::kMaxTiles)
        throw ConfigError(cfg.source + ": platform.tiles: expected at most " + std::to_string(config_limits::kMaxTiles) +
                          " tiles, but every crossbar layer of " + trace.source + " resident takes " +
                          std::to_string(tiles) + " tiles of " + std::to_string(cfg.crossbar.rows) + " x " +
                          std::to_string(cfg.crossbar.cols) + " cells of " + std::to_string(cfg.crossbar.cell_bits) +
                          " bit(s); larger arrays (crossbar.rows, crossbar.cols) or more bits per cell "
                          "(crossbar.cell_bits) take fewer");
    if (tiles != cfg.platform.tiles) {
        chip.changes.push_back({"platform.tiles", cfg.platform.tiles, tiles});
        chip.cfg.platform.tiles = static_cast<int>(tiles);
    }
    validate(chip.cfg);
    return chip;
}

PipelineFigures pipeline_figures(const std::vector<double>& stage_ns) {
    if (stage_ns.empty()) throw std::invalid_argument("pipeline_figures: expected at least one stage");
    PipelineFigures p;
    for (std::size_t i = 0; i < stage_ns.size(); ++i) {
        const double t = stage_ns[i];
        if (!std::isfinite(t) || t < 0)
            throw std::invalid_argument("pipeline_figures: stage " + std::to_string(i) +
                                        ": expected a finite latency >= 0, got " + std::to_string(t));
        p.layer_by_layer_ns += t;
        if (t > p.interval_ns) {
            p.interval_ns = t;
            p.bottleneck = i;
        }
    }
    return p;
}

SizeJobResult run_size_job(const ArchConfig& cfg, const SizeJobSpec& spec) {
    const auto t0 = std::chrono::steady_clock::now();
    if (spec.images < 1) throw std::invalid_argument("--images: expected at least 1, got " + std::to_string(spec.images));
    SizeJobResult r;
    r.chip = size_chip(cfg, load_trace_layers(spec.trace_path, spec.layers), spec.mapping);
    r.run = run_trace_job(r.chip.cfg, resident_run(spec));
    for (const TraceLayerReport& l : r.run.layers) r.stage_ns.push_back(l.stats.sim_ns / r.run.images);
    r.pipeline = pipeline_figures(r.stage_ns);
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

// The chip's figures of merit at the pipelined rate (a new image every interval_ns).
Throughput pipelined_throughput(const SizeJobResult& r) {
    const double n = std::max(1, r.run.images);
    return throughput(static_cast<double>(r.run.macs_per_image), r.pipeline.interval_ns, r.run.total.energy.total() / n,
                      chip_area(r.chip.cfg).total());
}

void print_size_report(const SizeJobResult& r, const SizeJobSpec& spec, std::FILE* out) {
    const TraceJobResult& run = r.run;
    const ArchConfig& cfg = r.chip.cfg;
    const PipelineFigures& p = r.pipeline;
    const double n = std::max(1, run.images);
    std::fprintf(out, "size %s: network %s (%s), %zu layers, map %s, %d x %d arrays of %d-bit cells, config %s\n",
                 run.trace_path.c_str(), run.network.c_str(), run.dataset.empty() ? "-" : run.dataset.c_str(),
                 run.layers.size(), trace_mapping_name(spec.mapping), cfg.crossbar.rows, cfg.crossbar.cols,
                 cfg.crossbar.cell_bits, cfg.source.c_str());
    for (const ConfigChange& c : r.chip.changes)
        std::fprintf(out, "set %s: %lld -> %lld (every crossbar layer's weights resident)\n", c.key.c_str(),
                     static_cast<long long>(c.from), static_cast<long long>(c.to));
    if (r.chip.changes.empty())
        std::fprintf(out, "platform.tiles %d already holds every crossbar layer's weights\n", cfg.platform.tiles);
    std::fprintf(out, "  %-24s %-12s %6s %11s %12s %7s %14s\n", "layer", "on", "tiles", "tile range", "stage us",
                 "of max", "energy nJ/img");
    for (std::size_t l = 0; l < run.layers.size(); ++l) {
        const TraceLayerReport& lr = run.layers[l];
        char range[32] = "-";
        if (lr.resident_tiles > 0)
            std::snprintf(range, sizeof range, "%d..%d", lr.first_tile, lr.first_tile + lr.resident_tiles - 1);
        std::fprintf(out, "  %-24s %-12s %6d %11s %12.3f %6.1f%% %14.3f%s\n", lr.name.c_str(), lr.mapped_to.c_str(),
                     lr.resident_tiles, range, r.stage_ns[l] / 1000.0,
                     p.interval_ns > 0 ? 100.0 * r.stage_ns[l] / p.interval_ns : 0.0,
                     lr.stats.energy.total() / n / 1e3, l == p.bottleneck ? "  <- slowest stage" : "");
    }
    std::fprintf(out, "tiles: %lld of %d x %d cells, %.2f M cells\n", static_cast<long long>(run.resident_tiles),
                 cfg.crossbar.rows, cfg.crossbar.cols,
                 static_cast<double>(run.resident_tiles) * cfg.crossbar.rows * cfg.crossbar.cols / 1e6);
    const AreaBreakdown a = chip_area(cfg);
    std::fprintf(out,
                 "area %.2f mm^2: arrays %.2f, ADCs %.2f, shift-add %.2f, tile buffers %.2f, global buffer %.2f, "
                 "other %.2f (docs/costs.md)\n",
                 a.total(), a.arrays, a.adcs, a.shift_add, a.input_buffers + a.output_buffers, a.global_buffer,
                 a.pe_array + a.post_process + a.dma_controller);
    std::fprintf(out, "layer by layer: %.3f us per image, %.2f frames/s\n", p.layer_by_layer_ns / 1000.0,
                 p.layer_by_layer_fps());
    std::fprintf(out, "pipelined: a new image every %.3f us (slowest stage %s), %.2f frames/s; fill latency %.3f us\n",
                 p.interval_ns / 1000.0, run.layers[p.bottleneck].name.c_str(), p.pipelined_fps(),
                 p.layer_by_layer_ns / 1000.0);
    std::fprintf(out, "  (each layer a stage with its own DMA, post-processing unit and PE array, where the platform has "
                 "one of each; each stage's latency as the layer ran alone)\n");
    const Throughput t = pipelined_throughput(r);
    std::fprintf(out, "pipelined: %.4g TOPS, %.4g TOPS/W, %.4g TOPS/mm^2\n", t.tops, t.tops_per_w, t.tops_per_mm2);
    std::fprintf(out, "energy %.3f nJ per image; weights programmed once before the first image: %.3f us, %.3f nJ "
                 "(in neither figure)\n",
                 run.total.energy.total() / n / 1e3, run.programming.sim_ns / 1000.0,
                 run.programming.energy.total() / 1e3);
    if (spec.check_reference)
        std::fprintf(out, "agreement with the C++ reference: %.6f (%d of %d images bit-exact on every layer)\n",
                     run.agreement, run.agree, run.images);
    std::fprintf(out, "wall time %.3f s (platform %.3f s CPU, reference %.3f s CPU, preparing %.3f s CPU)\n", r.wall_s,
                 run.platform.cpu, run.reference.cpu, run.prepare.cpu);
}

nlohmann::json size_job_to_json(const SizeJobResult& r, const SizeJobSpec& spec) {
    const TraceJobResult& run = r.run;
    const PipelineFigures& p = r.pipeline;
    const double n = std::max(1, run.images);
    const auto stats = [](const RunStats& s) {
        return nlohmann::json{{"cycles", s.cycles}, {"sim_time_ns", s.sim_ns}, {"energy_pj", energy_to_json(s.energy)}};
    };
    nlohmann::json changes = nlohmann::json::array();
    for (const ConfigChange& c : r.chip.changes) changes.push_back({{"key", c.key}, {"from", c.from}, {"to", c.to}});
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t l = 0; l < run.layers.size(); ++l) {
        const TraceLayerReport& lr = run.layers[l];
        layers.push_back({{"name", lr.name},
                          {"type", lr.type},
                          {"mapped_to", lr.mapped_to},
                          {"tiles", lr.resident_tiles},
                          {"first_tile", lr.resident_tiles > 0 ? nlohmann::json(lr.first_tile) : nlohmann::json(nullptr)},
                          {"stage_ns", r.stage_ns[l]},
                          {"bottleneck", l == p.bottleneck},
                          {"energy_per_image_pj", lr.stats.energy.total() / n},
                          {"programming", stats(lr.programming)}});
    }
    nlohmann::json energy = energy_to_json(run.total.energy);
    for (auto& [k, v] : energy.items()) v = v.get<double>() / n;
    return {{"trace", run.trace_path},
            {"network", run.network},
            {"dataset", run.dataset},
            {"mapping", trace_mapping_name(spec.mapping)},
            {"images", run.images},
            {"tiles", run.resident_tiles},
            {"config_changes", changes},
            {"layers", layers},
            {"layer_by_layer_ns", p.layer_by_layer_ns},
            {"layer_by_layer_frames_per_second", p.layer_by_layer_fps()},
            {"pipelined_interval_ns", p.interval_ns},
            {"pipelined_frames_per_second", p.pipelined_fps()},
            {"fill_latency_ns", p.layer_by_layer_ns},
            {"bottleneck", run.layers[p.bottleneck].name},
            {"area_mm2", area_to_json(chip_area(r.chip.cfg))},
            {"pipelined_tops", pipelined_throughput(r).tops},
            {"pipelined_tops_per_w", pipelined_throughput(r).tops_per_w},
            {"pipelined_tops_per_mm2", pipelined_throughput(r).tops_per_mm2},
            {"energy_per_image_pj", energy},
            {"programming", stats(run.programming)},
            {"agreement", spec.check_reference ? nlohmann::json(run.agreement) : nlohmann::json(nullptr)},
            {"wall_seconds", r.wall_s},
            {"run", trace_job_to_json(run, r.chip.cfg, resident_run(spec))},
            {"config", config_to_json(r.chip.cfg)}};
}

}  // namespace cimvp
