#include "sw/app/bench_job.h"

#include <chrono>
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "sw/driver/driver.h"
#include "sw/driver/network_runner.h"
#include "sw/formats/idx_dataset.h"
#include "sw/reference/network_reference.h"
#include "sw/system/system.h"

namespace cimvp {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Images the ADC calibration looks at when a layer's tables must be calibrated.
constexpr int kCalibrationImages = 8;

}  // namespace

BenchJobResult run_bench_job(const ArchConfig& cfg, const BenchJobSpec& spec) {
    if (spec.images < 1) throw std::invalid_argument("--images: expected at least 1");
    struct Case {
        BenchRow row;
        std::unique_ptr<ExecutionPlan> plan;  // stays put while the host program runs it
        std::vector<std::uint8_t> images;
        std::vector<std::int64_t> logits;  // the platform's, every image
    };
    std::vector<Case> cases;
    for (const auto& type : spec.types) {
        BenchNetwork b = bench_network(type, spec.seed);
        check_model_fits(b.model, cfg, b.options.on_pe);
        Case c;
        c.row.type = type;
        c.row.description = b.description;
        c.row.images = spec.images;
        c.row.layer_macs_per_image = b.layer_macs_per_image;
        c.row.macs_per_image = b.macs_per_image;
        c.images = bench_images(b.model, spec.images, spec.seed);
        const auto calib = bench_images(b.model, kCalibrationImages, spec.seed + 1);
        NetworkOptions options = b.options;
        options.batch = spec.images;
        c.plan = std::make_unique<ExecutionPlan>(
            compile_with_reference(b.model, cfg, options, calib.data(), kCalibrationImages));
        cases.push_back(std::move(c));
    }
    if (!spec.model_path.empty()) {
        const NetworkModel model = load_model(spec.model_path);
        NetworkOptions options = NetworkOptions::defaults_for(model);
        options.batch = 64;  // cimvp run's default
        check_model_fits(model, cfg, options.on_pe);
        const ImageSet test = load_idx_dataset(spec.data_dir, "t10k", spec.model_images);
        ImageSet calib;
        if (needs_calibration(model, cfg, options))
            calib = load_idx_dataset(spec.data_dir, "train", 256);
        Case c;
        c.row.type = "model";
        c.row.description = model.name + " (" + model.scheme + "), " + spec.model_path;
        c.row.images = test.count;
        for (const auto& L : model.layers) c.row.macs_per_image += layer_macs(L);
        c.row.layer_macs_per_image = c.row.macs_per_image;
        c.images = test.pixels;
        c.plan = std::make_unique<ExecutionPlan>(
            compile_with_reference(model, cfg, options, calib.count ? calib.pixels.data() : nullptr, calib.count));
        cases.push_back(std::move(c));
    }

    System sys("system", cfg);
    Platform& platform = sys.platform;
    sys.run([&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        for (Case& c : cases) {
            const Driver::Mark m = driver.mark();
            const std::size_t bytes = c.plan->model.image_bytes();
            const int batch = c.plan->batch();
            {
                NetworkRunner runner(driver, *c.plan, [&] { return platform.energy_meter(); });
                runner.program();
                const auto t0 = Clock::now();
                for (int first = 0; first < c.row.images; first += batch) {
                    const int n = std::min(batch, c.row.images - first);
                    const auto l = runner.run_batch(&c.images[bytes * first], n, static_cast<std::uint64_t>(first));
                    c.logits.insert(c.logits.end(), l.begin(), l.end());
                }
                c.row.platform_wall_s = since(t0);
                for (const auto& s : runner.layer_stats()) {
                    c.row.cycles += s.cycles;
                    c.row.sim_time_ns += s.sim_ns;
                }
            }
            driver.release(m);
        }
    });
    // The reference on the same plans, after the simulation.
    for (Case& c : cases) {
        const NetworkReference reference(*c.plan);
        const std::size_t bytes = c.plan->model.image_bytes();
        const int classes = c.plan->model.num_classes;
        int agree = 0;
        const auto t0 = Clock::now();
        for (int i = 0; i < c.row.images; ++i) {
            const auto ref = reference.logits(&c.images[bytes * i], static_cast<std::uint64_t>(i));
            agree += std::equal(ref.begin(), ref.end(), c.logits.begin() + static_cast<std::ptrdiff_t>(i) * classes);
        }
        c.row.reference_wall_s = since(t0);
        c.row.agreement = static_cast<double>(agree) / c.row.images;
    }
    BenchJobResult r;
    for (auto& c : cases) r.rows.push_back(c.row);
    return r;
}

}  // namespace cimvp
