// Google Benchmark suite of the C++ reference's hot paths: one crossbar read
// (packed bit-planes, popcount), one ADC conversion of a read, and the reference
// network per layer type (the oracle the platform is timed against).
// Not part of ctest: run build/testbench/bench_reference.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "sw/contract/crossbar_array.h"
#include "sw/workloads/bench_networks.h"
#include "sw/reference/network_reference.h"
#include "sw/contract/numerics.h"

namespace cimvp {
namespace {

// args: cell_bits. A full 128 x 128 array, one input bit-plane per read (dac_bits 1).
void BM_CrossbarRead(benchmark::State& state) {
    const int rows = 128, cols = 128, cell_bits = static_cast<int>(state.range(0));
    std::mt19937_64 rng(1);
    CrossbarArray xb(rows, cols, cell_bits);
    std::vector<std::uint8_t> levels(cols);
    for (int r = 0; r < rows; ++r) {
        for (auto& l : levels) l = static_cast<std::uint8_t>(rng() % (1u << cell_bits));
        xb.program_row(r, levels.data(), 0, cols);
    }
    std::vector<std::uint8_t> x(rows);
    for (auto& b : x) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint64_t> planes(static_cast<std::size_t>(CrossbarArray::words_for(rows)));
    CrossbarArray::pack_planes(x.data(), rows, 0, 1, CrossbarArray::words_for(rows), planes.data());
    std::vector<std::int64_t> psum(cols);
    std::uint64_t v = 0;
    for (auto _ : state) {
        xb.read(planes.data(), 1, cols, 8, v++, 0, psum.data());
        benchmark::DoNotOptimize(psum.data());
    }
    state.counters["cell_ops/s"] =
        benchmark::Counter(static_cast<double>(rows) * cols * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CrossbarRead)->Arg(1)->Arg(2);

// args: step (fixed point, 8 fraction bits): a power of two takes the shift path, else the division.
void BM_AdcConvert(benchmark::State& state) {
    const int cols = 128, bits = 5;
    std::mt19937_64 rng(2);
    std::vector<numerics::AdcColumn> table(cols);
    for (auto& c : table) {
        c.step_fx = state.range(0);
        c.base_fx = static_cast<std::int64_t>(rng() % 4096);
    }
    std::vector<std::int64_t> psum(cols), values(cols);
    for (auto& p : psum) p = static_cast<std::int64_t>(rng() % 32768);
    for (auto _ : state) {
        numerics::adc_convert(psum.data(), table.data(), cols, bits, nullptr, values.data());
        benchmark::DoNotOptimize(values.data());
    }
    state.counters["conversions/s"] =
        benchmark::Counter(static_cast<double>(cols) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdcConvert)->Arg(256)->Arg(300);

// The reference network of one `cimvp bench --layer-type` type, one image per iteration.
void BM_ReferenceNetwork(benchmark::State& state, const std::string& type) {
    const ArchConfig cfg;
    const BenchNetwork b = bench_network(type, 1);
    const auto calib = bench_images(b.model, 8, 2);
    const ExecutionPlan plan = compile_with_reference(b.model, cfg, b.options, calib.data(), 8);
    const NetworkReference net(plan);
    const int n = 16;
    const auto images = bench_images(b.model, n, 1);
    std::uint64_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(net.logits(&images[(i % n) * b.model.image_bytes()], i));
        ++i;
    }
    state.counters["MAC/s"] = benchmark::Counter(b.macs_per_image * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
    state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_ReferenceNetwork, conv3x3, std::string("conv3x3"));
BENCHMARK_CAPTURE(BM_ReferenceNetwork, conv1x1, std::string("conv1x1"));
BENCHMARK_CAPTURE(BM_ReferenceNetwork, fc, std::string("fc"));
BENCHMARK_CAPTURE(BM_ReferenceNetwork, pe, std::string("pe"));

}  // namespace
}  // namespace cimvp

BENCHMARK_MAIN();
