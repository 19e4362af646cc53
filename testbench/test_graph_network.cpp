// Graph networks (docs/numerics.md, "Graph networks") in the compiler and the C++ reference: the
// reference against a direct evaluation of the contract (direct grouped convolution loops, the
// tensor formulas written out, no crossbar, no blocks' matrices), the plan's blocks and buffers.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "sw/compiler/network_compiler.h"
#include "sw/contract/post_processing.h"
#include "sw/reference/network_reference.h"
#include "testbench/model_builders.h"

namespace cimvp {
namespace {

std::uint8_t clamp_code(std::int64_t v, int shift, int bits) {
    // round_half_up(v / 2^shift) = floor((v + 2^(shift-1)) / 2^shift), clamped
    const std::int64_t y = shift == 0 ? v : (v + (std::int64_t{1} << (shift - 1))) >> shift;
    return static_cast<std::uint8_t>(std::clamp<std::int64_t>(y, 0, (std::int64_t{1} << bits) - 1));
}

// A conv (any groups) or fc node evaluated directly; `rows` is the row-tile height, which decides
// the blocks whose input sums Sx a grouped conv's mult_x multiplies.
std::vector<std::uint8_t> naive_matrix(const NetworkLayer& L, const std::vector<std::uint8_t>& x, int rows,
                                       std::vector<std::int64_t>* logits) {
    const int oh = L.out_h(), ow = L.out_w();
    const int G = L.groups, Cg = L.in_c / G, Mg = L.out_c / G, kk = L.kernel * L.kernel;
    const int per_block = std::max(1, rows / (Cg * kk));
    std::vector<std::uint8_t> y(static_cast<std::size_t>(L.out_c) * oh * ow);
    const auto in = [&](int c, int iy, int ix) -> std::int64_t {
        if (L.kind == LayerKind::kFc) return x[(static_cast<std::size_t>(c) * L.in_h + iy) * L.in_w + ix];
        if (iy < 0 || iy >= L.in_h || ix < 0 || ix >= L.in_w) return 0;
        return x[(static_cast<std::size_t>(c) * L.in_h + iy) * L.in_w + ix];
    };
    for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
            for (int o = 0; o < L.out_c; ++o) {
                const int g = o / Mg;
                const int b0 = g / per_block * per_block, b1 = std::min(G, b0 + per_block);
                std::int64_t acc = 0, sx = 0;
                const int kh = L.kind == LayerKind::kFc ? L.in_h : L.kernel;
                const int kw = L.kind == LayerKind::kFc ? L.in_w : L.kernel;
                for (int c = 0; c < L.in_c; ++c)
                    for (int ky = 0; ky < kh; ++ky)
                        for (int kx = 0; kx < kw; ++kx) {
                            const int iy = L.kind == LayerKind::kFc ? ky : oy * L.stride + ky - L.padding;
                            const int ix = L.kind == LayerKind::kFc ? kx : ox * L.stride + kx - L.padding;
                            const std::int64_t v = in(c, iy, ix);
                            if (c / Cg >= b0 && c / Cg < b1) sx += v;  // the block's inputs
                            if (c / Cg != g) continue;
                            const int k = ((c % Cg) * kh + ky) * kw + kx;
                            acc += v * L.weights[static_cast<std::size_t>(o) * L.K() + k];
                        }
                const std::int64_t v = acc * L.mult[o] + sx * L.mult_x[o] + L.bias[o];
                if (!L.relu) {
                    logits->push_back(v);
                    continue;
                }
                y[(static_cast<std::size_t>(o) * oh + oy) * ow + ox] = clamp_code(v, L.shift, L.a_out_bits);
            }
    std::vector<std::uint8_t> p(L.output_bytes());
    if (L.relu) pool2d(y.data(), L.out_c, oh, ow, L.pool, L.pool_size, L.pool_stride, p.data());
    return p;
}

std::vector<std::int64_t> naive_graph_logits(const NetworkModel& m, const std::uint8_t* image, int rows) {
    std::vector<std::vector<std::uint8_t>> t{std::vector<std::uint8_t>(image, image + m.image_bytes())};
    std::vector<std::int64_t> logits;
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const NetworkLayer& L = m.layers[l];
        const std::vector<int>& in = L.inputs;
        if (L.is_matrix()) {
            t.push_back(naive_matrix(L, t[static_cast<std::size_t>(in[0])], rows, &logits));
            continue;
        }
        const std::size_t hw = static_cast<std::size_t>(L.in_h) * L.in_w;
        std::vector<std::uint8_t> y;
        if (L.kind == LayerKind::kAdd) {
            for (std::size_t i = 0; i < L.in_c * hw; ++i)
                y.push_back(clamp_code(L.mult[0] * std::int64_t{t[in[0]][i]} + L.bias[0] + L.mult[1] * std::int64_t{t[in[1]][i]} + L.bias[1],
                                       L.shift, L.a_out_bits));
        } else if (L.kind == LayerKind::kConcat) {
            for (std::size_t j = 0; j < in.size(); ++j)
                for (std::uint8_t v : t[static_cast<std::size_t>(in[j])])
                    y.push_back(clamp_code(L.mult[j] * std::int64_t{v} + L.bias[j], L.shift, L.a_out_bits));
        } else if (L.pool == PoolKind::kGlobalAvg) {
            for (int c = 0; c < L.in_c; ++c) {
                std::int64_t s = 0;
                for (std::size_t i = 0; i < hw; ++i) s += t[in[0]][c * hw + i];
                y.push_back(clamp_code(L.mult[0] * s + L.bias[0], L.shift, L.a_out_bits));
            }
        } else {
            std::vector<std::uint8_t> v;
            for (std::uint8_t a : t[in[0]]) v.push_back(clamp_code(L.mult[0] * std::int64_t{a} + L.bias[0], L.shift, L.a_out_bits));
            y.resize(L.output_bytes());
            pool2d(v.data(), L.in_c, L.in_h, L.in_w, L.pool, L.pool_size, L.pool_stride, y.data());
        }
        t.push_back(y);
    }
    return logits;
}

NetworkModel graph_with_mult_x(std::uint64_t seed, int channels) {
    NetworkModel m = test::random_graph_network(seed, 12, channels);
    std::mt19937 rng(static_cast<unsigned>(seed) + 1);
    for (auto& x : m.layers[1].mult_x) x = static_cast<std::int32_t>(rng() % 21) - 10;  // the depthwise conv's Sx
    return m;
}

TEST(GraphNetwork, LosslessReferenceEqualsDirectEvaluation) {
    for (int rows : {128, 32}) {  // one depthwise block, or several
        for (int channels : {8, 16}) {
            const NetworkModel m = graph_with_mult_x(static_cast<std::uint64_t>(rows + channels), channels);
            ArchConfig cfg;
            cfg.crossbar.rows = rows;
            const ExecutionPlan plan = compile_network(m, cfg);
            ASSERT_FALSE(plan.layers[1].blocks.empty());
            EXPECT_EQ(plan.layers[1].blocks.size(), static_cast<std::size_t>((channels + rows / 9 - 1) / (rows / 9)));
            EXPECT_TRUE(plan.layers[3].tensor);
            const NetworkReference ref(plan);
            std::mt19937 rng(7);
            std::set<std::int64_t> seen;
            for (int img = 0; img < 4; ++img) {
                // Images of different brightness: a global average of uniform noise hardly differs between images.
                std::vector<std::uint8_t> image(m.image_bytes());
                for (auto& p : image) p = static_cast<std::uint8_t>(rng() % (64u * static_cast<unsigned>(img + 1)));
                const auto got = ref.logits(image.data(), static_cast<std::uint64_t>(img));
                EXPECT_EQ(got, naive_graph_logits(m, image.data(), rows)) << "rows " << rows << " image " << img;
                seen.insert(got.begin(), got.end());
            }
            EXPECT_GT(seen.size(), 10u) << "rows " << rows << " channels " << channels;  // not all images alike
        }
    }
}

TEST(GraphNetwork, LayerInputIsInputZerosTensor) {
    const NetworkModel m = test::random_graph_network(3);
    ArchConfig cfg;
    const ExecutionPlan plan = compile_network(m, cfg);
    const NetworkReference ref(plan);
    std::vector<std::uint8_t> image(m.image_bytes(), 100);
    const auto t = ref.tensors(image.data(), 0, plan.size(), nullptr);
    EXPECT_EQ(ref.layer_input(image.data(), 4, 0), t[4]);  // node 4 reads the add's output
    EXPECT_EQ(ref.layer_input(image.data(), 8, 0), t[8]);  // the fc reads the global average
    EXPECT_EQ(t[8].size(), 8u + 4u);
}

TEST(GraphNetwork, GroupedConvsAndTensorNodesRefuseThePeArray) {
    const NetworkModel m = test::random_graph_network(4);
    ArchConfig cfg;
    NetworkOptions o;
    o.on_pe.assign(m.layers.size(), false);
    o.on_pe[1] = true;
    try {
        compile_network(m, cfg, o);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("node 1 (conv): a grouped conv (groups 8) runs on the crossbars"),
                  std::string::npos) << e.what();
    }
    o.on_pe[1] = false;
    o.on_pe[3] = true;
    try {
        compile_network(m, cfg, o);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("node 3 (add): a tensor node runs on the post-processing unit"),
                  std::string::npos) << e.what();
    }
    o.on_pe[3] = false;
    o.on_pe[2] = true;  // a plain 1x1 conv may
    EXPECT_NO_THROW(compile_network(m, cfg, o));
}

TEST(GraphNetwork, BuffersAreReusedOnceTheirLastConsumerHasRun) {
    const NetworkModel m = test::random_graph_network(5);
    ArchConfig cfg;
    const ExecutionPlan plan = compile_network(m, cfg);
    ASSERT_EQ(plan.tensor_buffer.size(), m.layers.size() + 1);
    EXPECT_EQ(plan.tensor_buffer[0], 0);
    EXPECT_LT(plan.buffers.size(), m.layers.size() + 1);  // some reuse
    // No tensor shares a buffer with one that is live at the same time: tensor t lives from its
    // producer (node t - 1) to its last consumer.
    const std::vector<int> last = m.last_consumers();
    for (std::size_t a = 1; a < plan.tensor_buffer.size(); ++a)
        for (std::size_t b = a + 1; b < plan.tensor_buffer.size(); ++b) {
            if (plan.tensor_buffer[a] != plan.tensor_buffer[b]) continue;
            EXPECT_LT(last[a], static_cast<int>(b) - 1 + 1) << "tensor " << a << " is read by node " << last[a]
                                                            << " while tensor " << b << " is written";
            EXPECT_LE(m.tensor(b).bytes() * static_cast<std::size_t>(plan.batch()),
                      plan.buffers[static_cast<std::size_t>(plan.tensor_buffer[b])].bytes);
        }
    // A chain keeps one buffer per tensor, in the sizes and order it always had: the images, the
    // hidden activations, the logits (so its placement, steps and cycles are unchanged).
    const NetworkModel chain = test::random_network(5, test::ModelShape{});
    const ExecutionPlan cp = compile_network(chain, cfg);
    const std::vector<std::uint64_t> before = activation_buffer_bytes(chain, cp.batch());
    ASSERT_EQ(cp.buffers.size(), before.size() + 1);
    EXPECT_EQ(cp.buffers[0].bytes, static_cast<std::uint64_t>(cp.batch()) * chain.image_bytes());
    for (std::size_t b = 0; b < before.size(); ++b) {
        EXPECT_EQ(cp.buffers[b + 1].bytes, before[b]) << b;
        EXPECT_EQ(cp.tensor_buffer[b + 1], static_cast<int>(b + 1));
    }
    EXPECT_EQ(cp.logits_buffer, static_cast<int>(chain.layers.size()));
}

TEST(GraphNetwork, LossyAdcCalibratesEveryBlock) {
    const NetworkModel m = test::random_graph_network(6, 12, 16);
    ArchConfig cfg;
    cfg.crossbar.rows = 32;
    cfg.adc.bits = 3;  // lossy for every layer
    ASSERT_TRUE(needs_calibration(m, cfg));
    std::vector<std::uint8_t> images(4 * m.image_bytes());
    std::mt19937 rng(3);
    for (auto& p : images) p = static_cast<std::uint8_t>(rng());
    const ExecutionPlan plan = compile_with_reference(m, cfg, NetworkOptions{}, images.data(), 4);
    ASSERT_GT(plan.layers[1].blocks.size(), 1u);
    for (const BlockPlan& b : plan.layers[1].blocks) {
        EXPECT_TRUE(b.adc_recalibrated);
        bool not_unit = false;
        for (int rt = 0; rt < b.mapping.row_tiles; ++rt)
            for (int c = 0; c < b.mapping.cols_in(0); ++c)
                not_unit = not_unit || b.adc.tile(rt, 0)[c].step_fx != (1 << cfg.adc.frac_bits);
        EXPECT_TRUE(not_unit) << "block at group " << b.block.first_group;
    }
    // Evaluates.
    const NetworkReference ref(plan);
    EXPECT_EQ(ref.logits(images.data(), 0).size(), 10u);
}

}  // namespace
}  // namespace cimvp
