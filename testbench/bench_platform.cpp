// Google Benchmark suite of the SystemC platform: the networks of `cimvp bench
// --layer-type` (one layer type each: conv 3x3, conv 1x1, fc on the crossbars,
// a 3x3 conv on the SWIS PE array) and a whole-image run of the default model.
// SystemC elaborates once per process, so the platform is built once in
// sc_main and the benchmarks run inside the host CPU's thread, each on the
// same driver (DRAM is released between them).
// Not part of ctest: run build/testbench/bench_platform [--benchmark_filter=...].
#include <benchmark/benchmark.h>

#include <memory>
#include <systemc>

#include "hw/platform.h"
#include "sw/app/bench_job.h"
#include "sw/compiler/network_compiler.h"
#include "sw/driver/driver.h"
#include "sw/driver/network_runner.h"
#include "sw/formats/idx_dataset.h"
#include "sw/reference/network_reference.h"
#include "sw/system/system.h"

namespace cimvp {
namespace {

const ArchConfig kConfig;
Platform* g_platform = nullptr;
Driver* g_driver = nullptr;

// `batch` images per iteration through NetworkRunner::run_batch.
void run_network(benchmark::State& state, const ExecutionPlan& plan, const std::vector<std::uint8_t>& images,
                 int count, double macs_per_image) {
    const Driver::Mark mark = g_driver->mark();
    const int batch = plan.batch();
    {
        NetworkRunner runner(*g_driver, plan, [] { return g_platform->energy_meter(); });
        runner.program();
        const std::size_t bytes = plan.model.image_bytes();
        int first = 0;
        for (auto _ : state) {
            if (first + batch > count) first = 0;
            benchmark::DoNotOptimize(runner.run_batch(&images[bytes * first], batch, static_cast<std::uint64_t>(first)));
            first += batch;
        }
        double cycles = 0;
        for (const auto& s : runner.layer_stats()) cycles += static_cast<double>(s.cycles);
        const double n = static_cast<double>(state.iterations()) * batch;
        state.counters["MAC/s"] = benchmark::Counter(macs_per_image * n, benchmark::Counter::kIsRate);
        state.counters["images/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
        state.counters["cycles/image"] = cycles / n;
    }
    g_driver->release(mark);
}

void BM_PlatformLayerType(benchmark::State& state, const std::string& type) {
    const BenchNetwork b = bench_network(type, 1);
    const auto calib = bench_images(b.model, 8, 2);
    const int n = 32;
    NetworkOptions options = b.options;
    options.batch = 8;
    const ExecutionPlan plan = compile_with_reference(b.model, kConfig, options, calib.data(), 8);
    const auto images = bench_images(b.model, n, 1);
    run_network(state, plan, images, n, b.macs_per_image);
}
BENCHMARK_CAPTURE(BM_PlatformLayerType, conv3x3, std::string("conv3x3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PlatformLayerType, conv1x1, std::string("conv1x1"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PlatformLayerType, fc, std::string("fc"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PlatformLayerType, pe, std::string("pe"))->Unit(benchmark::kMillisecond);

// The default model (BWMA) on Fashion-MNIST test images, one image per command list.
void BM_PlatformDefaultModelImage(benchmark::State& state) {
    const NetworkModel model = load_model(CIMVP_SOURCE_DIR "/models/fmnist-bwma.cimvp");
    NetworkOptions options = NetworkOptions::defaults_for(model);
    options.batch = 1;
    const int n = 64;
    ImageSet test;
    try {
        test = load_idx_dataset(kFashionMnistDir, "t10k", n);
    } catch (const DatasetError& e) {
        state.SkipWithError(e.what());
        return;
    }
    const ExecutionPlan plan = compile_network(model, kConfig, options);
    double macs = 0;
    for (const auto& L : model.layers) macs += static_cast<double>(L.K()) * L.M() * L.vectors();
    run_network(state, plan, test.pixels, test.count, macs);
}
BENCHMARK(BM_PlatformDefaultModelImage)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cimvp

int sc_main(int argc, char* argv[]) {
    using namespace cimvp;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    System system("system", kConfig);
    system.run([&](HostCpu& cpu) {
        Driver driver(cpu, kConfig);
        g_platform = &system.platform;
        g_driver = &driver;
        benchmark::RunSpecifiedBenchmarks();
    });
    benchmark::Shutdown();
    return 0;
}
