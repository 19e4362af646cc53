#include "sw/app/layer_job.h"

#include <chrono>
#include <cmath>
#include <random>

#include "sw/compiler/adc_calibration.h"
#include "sw/driver/driver.h"
#include "sw/reference/reference.h"
#include "sw/system/system.h"

namespace cimvp {

namespace {
// Vectors the ADC calibration looks at (the rest are not seen beforehand).
constexpr int kCalibrationVectors = 64;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double fraction_equal(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
    if (a.size() != b.size() || a.empty()) return 0.0;
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    return static_cast<double>(same) / static_cast<double>(a.size());
}
}  // namespace

MatrixLayer random_layer(const LayerJobSpec& spec) {
    std::mt19937_64 rng(spec.seed);
    MatrixLayer L;
    L.name = spec.conv ? "conv" : "fc";
    L.K = spec.conv ? spec.conv->patch() : spec.K;
    L.M = spec.M;
    L.a_bits = spec.a_bits;
    L.w_bits = spec.binary ? 1 : spec.w_bits;
    L.binary = spec.binary;
    L.weights.resize(static_cast<std::size_t>(L.K) * L.M);
    for (auto& w : L.weights) {
        if (L.binary) w = (rng() & 1) ? 1 : -1;
        else w = static_cast<std::int8_t>(static_cast<int>(rng() % (1u << L.w_bits)) - (1 << (L.w_bits - 1)));
    }
    return L;
}

std::vector<std::uint8_t> random_inputs(const LayerJobSpec& spec, int K) {
    std::mt19937_64 rng(spec.seed ^ 0x9e3779b97f4a7c15ULL);
    const auto draw = [&](std::size_t n) {
        std::vector<std::uint8_t> v(n);
        for (auto& b : v) b = static_cast<std::uint8_t>(rng() % (1u << spec.a_bits));
        return v;
    };
    if (spec.conv) {
        const auto image = draw(static_cast<std::size_t>(spec.conv->channels) * spec.conv->height * spec.conv->width);
        return im2col(*spec.conv, image.data());
    }
    return draw(static_cast<std::size_t>(spec.vectors) * K);
}

LayerJobResult run_layer_job(const ArchConfig& cfg, const LayerJobSpec& spec) {
    LayerJobResult r;
    r.layer = random_layer(spec);
    r.map = LayerMapping::make(r.layer, cfg);
    const auto x = random_inputs(spec, r.layer.K);
    r.vectors = static_cast<int>(x.size() / static_cast<std::size_t>(r.layer.K));
    r.adc_lossless = adc_is_lossless(r.map, cfg);
    const AdcTables adc =
        calibrate_adc(r.layer, r.map, cfg, x.data(), std::min(r.vectors, kCalibrationVectors));

    auto t0 = std::chrono::steady_clock::now();
    ReferenceLayer ref(r.layer, r.map, adc, cfg);
    r.reference = ref.run(x.data(), r.vectors);
    r.reference_wall_s = seconds_since(t0);
    r.cell_bit_ops = ref.cell_bit_ops_per_vector() * r.vectors;
    r.exact = integer_matmul(r.layer, x.data(), r.vectors);

    SystemOptions options;
    options.log_transactions = spec.log_transactions;
    options.waveforms = spec.waveforms;
    options.record_commands = !spec.record_path.empty();
    System sys("system", cfg, options);
    Platform& platform = sys.platform;
    Waveforms* waves = sys.waveforms();
    CommandListStats stats;
    EnergyMeter before;  // what the host's loading of DRAM cost: not the accelerator's
    t0 = std::chrono::steady_clock::now();
    sys.run([&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        driver.set_start_hook([&] { before = platform.energy_meter(); });
        if (waves) driver.set_waveforms(waves->recorder.get(), waves->list);
        r.platform = driver.run_matrix_layer(r.layer, r.map, adc, x.data(), r.vectors, 0, &stats);
    });
    r.platform_wall_s = seconds_since(t0);
    r.protocol = sys.protocol_counts();
    if (!spec.record_path.empty())
        sys.command_recorder()->write(spec.record_path,
                                      {{"command", "layer"}, {"layer", r.layer.name}, {"K", r.layer.K},
                                       {"M", r.layer.M}, {"vectors", r.vectors}, {"seed", spec.seed}},
                                      sc_core::sc_time_stamp());

    r.cycles = stats.cycles;
    r.sim_time_ns = stats.sim_ns;
    r.commands = stats.commands;
    r.tile_runs = stats.tile_runs;
    r.energy = platform.energy_meter().since(before).energy();
    r.agreement = fraction_equal(r.platform, r.reference);
    r.exact_agreement = fraction_equal(r.platform, r.exact);
    double err = 0, mag = 0;
    for (std::size_t i = 0; i < r.exact.size() && i < r.platform.size(); ++i) {
        err += std::abs(static_cast<double>(r.platform[i] - r.exact[i]));
        mag += std::abs(static_cast<double>(r.exact[i]));
    }
    r.relative_error = mag > 0 ? err / mag : 0.0;
    return r;
}

}  // namespace cimvp
