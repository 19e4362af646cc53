// The post-processing unit's TensorOp jobs (hw/command_format.h TensorOpDescriptor, opcode
// kTensorOp) on the platform: add, scale with window pooling, global average, a concat's channel
// slices, and a post-processing job writing a block's channel slice; each against the contract's
// functions (sw/contract/tensor_ops.h), with its counters, energy and latency; bad descriptors end
// in ERROR with a report.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "hw/post_processing_unit.h"
#include "sw/contract/post_processing.h"
#include "sw/contract/tensor_ops.h"
#include "testbench/platform_bench.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

std::vector<std::uint8_t> random_codes(std::size_t n, int bits, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng() % (1u << bits));
    return v;
}

// Runs one TensorOp job (its descriptor written to memory) and returns the list's statistics.
CommandListStats run_job(Driver& driver, const TensorOpDescriptor& d) {
    const std::uint64_t at = driver.alloc(sizeof d);
    driver.write(at, &d, sizeof d);
    return driver.run_commands({make_tensor_op(at), Command{}});
}

TEST(PpuTensorOps, AddScaleAndGlobalAverageEqualTheContract) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    test::PlatformBench bench(cfg);
    const int C = 6, H = 5, W = 7, images = 3;
    const std::size_t map = static_cast<std::size_t>(C) * H * W;
    const auto a = random_codes(map * images, 4, 1), b = random_codes(map * images, 6, 2);
    TensorOpParams p;
    p.mult_a = 7;
    p.bias_a = -9;
    p.mult_b = -3;
    p.bias_b = 40;
    p.shift = 3;
    p.a_out_bits = 5;
    std::vector<std::uint8_t> add(map * images), scale(map * images), pooled, gap(static_cast<std::size_t>(C) * images);
    std::uint64_t outputs_after_add = 0, tensor_jobs = 0;
    double energy_after_add = 0;
    CommandListStats add_stats, gap_stats;
    bench.run([&](HostCpu&, Driver& driver) {
        const std::uint64_t src_a = driver.alloc(a.size()), src_b = driver.alloc(b.size());
        const std::uint64_t dst = driver.alloc(map * images);
        driver.write(src_a, a.data(), a.size());
        driver.write(src_b, b.data(), b.size());
        TensorOpDescriptor d;
        d.src_a = src_a;
        d.src_b = src_b;
        d.dst = dst;
        d.channels = C;
        d.height = H;
        d.width = W;
        d.images = images;
        d.mult_a = static_cast<std::int32_t>(p.mult_a);
        d.bias_a = p.bias_a;
        d.mult_b = static_cast<std::int32_t>(p.mult_b);
        d.bias_b = p.bias_b;
        d.shift = static_cast<std::uint8_t>(p.shift);
        d.a_out_bits = static_cast<std::uint8_t>(p.a_out_bits);
        d.op = static_cast<std::uint8_t>(TensorOp::kAdd);
        add_stats = run_job(driver, d);
        driver.read(dst, add.data(), add.size());
        outputs_after_add = bench.platform.ppu.counters().outputs;
        energy_after_add = bench.platform.ppu.energy_pj();

        d.op = static_cast<std::uint8_t>(TensorOp::kScale);
        run_job(driver, d);
        driver.read(dst, scale.data(), scale.size());

        d.pool = TensorOpDescriptor::pool_field(static_cast<int>(PoolKind::kMax), 2, 2);
        run_job(driver, d);
        pooled.resize(static_cast<std::size_t>(C) * 2 * 3 * images);
        driver.read(dst, pooled.data(), pooled.size());

        d.pool = 0;
        d.shift = 7;  // a sum of 35 codes
        d.op = static_cast<std::uint8_t>(TensorOp::kGlobalAvg);
        gap_stats = run_job(driver, d);
        driver.read(dst, gap.data(), gap.size());
        tensor_jobs = bench.platform.ppu.counters().tensor_jobs;
    });
    std::vector<std::uint8_t> want(map * images);
    tensor_add(a.data(), b.data(), want.size(), p, want.data());
    EXPECT_EQ(add, want);
    tensor_scale(a.data(), want.size(), p, want.data());
    EXPECT_EQ(scale, want);
    std::vector<std::uint8_t> want_pooled(static_cast<std::size_t>(C) * 2 * 3 * images);
    for (int i = 0; i < images; ++i)
        pool2d(&want[map * i], C, H, W, PoolKind::kMax, 2, 2, &want_pooled[static_cast<std::size_t>(C) * 6 * i]);
    EXPECT_EQ(pooled, want_pooled);
    std::vector<std::uint8_t> want_gap(static_cast<std::size_t>(C) * images);
    p.shift = 7;
    for (int i = 0; i < images; ++i) tensor_global_avg(&a[map * i], C, H * W, p, &want_gap[static_cast<std::size_t>(C) * i]);
    EXPECT_EQ(gap, want_gap);
    // Not all saturated: the test sees real values.
    EXPECT_GT(std::set<std::uint8_t>(add.begin(), add.end()).size(), 8u);
    EXPECT_GT(std::set<std::uint8_t>(gap.begin(), gap.end()).size(), 3u);
    // Counters, energy and latency: one output per element, post_process_pj each; the lanes' cycles.
    EXPECT_EQ(outputs_after_add, map * images);
    EXPECT_DOUBLE_EQ(energy_after_add, static_cast<double>(map * images) * cfg.digital.post_process_pj);
    EXPECT_EQ(tensor_jobs, 4u);
    const std::uint64_t lane_cycles = (map * images + cfg.digital.post_process_lanes - 1) / cfg.digital.post_process_lanes;
    EXPECT_GE(add_stats.cycles, lane_cycles);
    EXPECT_GE(gap_stats.cycles, lane_cycles);
}

TEST(PpuTensorOps, ConcatSlicesAndABlocksPostProcessingWriteChannelSlices) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    test::PlatformBench bench(cfg);
    const int H = 4, W = 4, images = 2, c0 = 3, c1 = 5, C = c0 + c1;
    const std::size_t hw = static_cast<std::size_t>(H) * W, out_image = C * hw;
    const auto x0 = random_codes(c0 * hw * images, 4, 3), x1 = random_codes(c1 * hw * images, 4, 4);
    std::vector<std::uint8_t> concat(out_image * images), slices(out_image * images);
    std::vector<std::int64_t> acc(static_cast<std::size_t>(c1) * hw * images);
    std::mt19937 rng(5);
    for (auto& v : acc) v = static_cast<std::int64_t>(rng() % 2000) - 500;
    std::vector<std::int64_t> sx(hw * images, 11);
    bench.run([&](HostCpu&, Driver& driver) {
        const std::uint64_t a0 = driver.alloc(x0.size()), a1 = driver.alloc(x1.size()), dst = driver.alloc(out_image * images);
        driver.write(a0, x0.data(), x0.size());
        driver.write(a1, x1.data(), x1.size());
        TensorOpDescriptor d;
        d.height = H;
        d.width = W;
        d.images = images;
        d.shift = 1;
        d.a_out_bits = 4;
        d.op = static_cast<std::uint8_t>(TensorOp::kScale);
        d.dst_image_stride = static_cast<std::uint32_t>(out_image);
        d.src_a = a0;
        d.dst = dst;
        d.channels = c0;
        d.mult_a = 3;
        run_job(driver, d);
        d.src_a = a1;
        d.dst = dst + c0 * hw;
        d.channels = c1;
        d.mult_a = 2;
        d.bias_a = 1;
        run_job(driver, d);
        driver.read(dst, concat.data(), concat.size());

        // A post-processing job writing channels [c0, C) of each image's map (a grouped conv's block).
        std::vector<std::uint8_t> zeros(out_image * images, 0);
        driver.write(dst, zeros.data(), zeros.size());
        const std::uint64_t acc_at = driver.alloc(acc.size() * 8), sx_at = driver.alloc(sx.size() * 8);
        driver.write(acc_at, acc.data(), acc.size() * 8);
        driver.write(sx_at, sx.data(), sx.size() * 8);
        std::vector<std::uint8_t> params(static_cast<std::size_t>(c1) * 16, 0);
        for (int m = 0; m < c1; ++m) {
            const std::int64_t bias = 10 * m;
            const std::int32_t mult = 1 + m, mult_x = 2;
            std::memcpy(&params[static_cast<std::size_t>(m) * 8], &bias, 8);
            std::memcpy(&params[static_cast<std::size_t>(c1) * 8 + m * 4], &mult, 4);
            std::memcpy(&params[static_cast<std::size_t>(c1) * 12 + m * 4], &mult_x, 4);
        }
        const std::uint64_t params_at = driver.alloc(params.size());
        driver.write(params_at, params.data(), params.size());
        PostProcessDescriptor pp;
        pp.acc = acc_at;
        pp.sx = sx_at;
        pp.params = params_at;
        pp.dst = dst + c0 * hw;
        pp.channels = c1;
        pp.out_h = H;
        pp.out_w = W;
        pp.images = images;
        pp.shift = 6;
        pp.a_out_bits = 4;
        pp.dst_image_stride = static_cast<std::uint32_t>(out_image);
        const std::uint64_t at = driver.alloc(sizeof pp);
        driver.write(at, &pp, sizeof pp);
        driver.run_commands({make_post_process(at), Command{}});
        driver.read(dst, slices.data(), slices.size());
    });
    for (int i = 0; i < images; ++i)
        for (std::size_t j = 0; j < out_image; ++j) {
            const std::uint8_t got = concat[i * out_image + j];
            const std::int64_t v = j < c0 * hw ? 3 * std::int64_t{x0[i * c0 * hw + j]}
                                               : 2 * std::int64_t{x1[i * c1 * hw + j - c0 * hw]} + 1;
            EXPECT_EQ(got, requantize(v, 1, 4)) << "image " << i << " element " << j;
        }
    for (int i = 0; i < images; ++i)
        for (std::size_t j = 0; j < out_image; ++j) {
            std::int64_t want = 0;  // channels of the other block stay as written
            if (j >= c0 * hw) {
                const std::size_t m = (j - c0 * hw) / hw, px = (j - c0 * hw) % hw;
                const std::size_t v = i * hw + px;
                want = requantize(affine(acc[v * c1 + m], sx[v], 1 + static_cast<std::int64_t>(m), 2, 10 * static_cast<std::int64_t>(m)), 6, 4);
            }
            EXPECT_EQ(slices[i * out_image + j], want) << "image " << i << " element " << j;
        }
}

TEST(PpuTensorOps, BadDescriptorsEndInErrorWithAReport) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg;
    test::PlatformBench bench(cfg);
    std::vector<std::uint32_t> errors;
    std::uint64_t unit_errors = 0;
    {
        test::ExpectScWarnings expect({{PostProcessingUnit::kReportId, 5}, {Controller::kReportId, 5}});
        bench.run([&](HostCpu&, Driver& driver) {
            const std::uint64_t buf = driver.alloc(4096);
            TensorOpDescriptor good;
            good.src_a = good.src_b = buf;
            good.dst = buf + 2048;
            good.channels = 2;
            good.height = good.width = 4;
            good.images = 1;
            good.op = static_cast<std::uint8_t>(TensorOp::kScale);
            std::vector<TensorOpDescriptor> bad(5, good);
            bad[0].op = 9;                    // no such op
            bad[1].a_out_bits = 9;            // bits outside 1..8
            bad[2].shift = 63;                // shift above 62
            bad[3].pool = TensorOpDescriptor::pool_field(1, 5, 1);  // a 5x5 window on a 4x4 map
            bad[4].dst_image_stride = 7;      // shorter than an image's 32-byte result
            EXPECT_NO_THROW(run_job(driver, good));
            for (const auto& d : bad) {
                EXPECT_THROW(run_job(driver, d), DriverError);
                errors.push_back(driver.read32(kPostProcessBase + ppu_regs::kError));
            }
            unit_errors = bench.platform.ppu.counters().errors;
        });
    }
    for (std::uint32_t e : errors) EXPECT_EQ(e, static_cast<std::uint32_t>(PostProcessError::kBadDescriptor));
    EXPECT_EQ(unit_errors, 5u);
}

}  // namespace
}  // namespace cimvp
