#include "sw/reference/network_reference.h"

#include <algorithm>
#include <cmath>

#include <stdexcept>
#include <string>

#include "sw/contract/grouped_conv.h"
#include "sw/contract/im2col.h"
#include "sw/contract/post_processing.h"
#include "sw/contract/tensor_ops.h"

namespace cimvp {

std::vector<std::uint8_t> NetworkReference::layer_vectors(const NetworkLayer& L, const std::uint8_t* input) {
    if (L.kind == LayerKind::kConv) {
        ConvShape s{L.in_c, L.in_h, L.in_w, L.kernel, L.stride, L.padding};
        return im2col(s, input);
    }
    return std::vector<std::uint8_t>(input, input + L.K());
}

std::vector<std::uint8_t> NetworkReference::hidden_output(const NetworkLayer& L, const std::int64_t* acc,
                                                          const std::int64_t* sx) {
    const int M = L.M(), n = L.vectors();
    std::vector<std::uint8_t> y(static_cast<std::size_t>(M) * n);
    for (int v = 0; v < n; ++v)
        for (int m = 0; m < M; ++m)
            y[static_cast<std::size_t>(m) * n + v] = static_cast<std::uint8_t>(
                requantize(affine(acc[static_cast<std::size_t>(v) * M + m], sx[v], L.mult[m], L.mult_x[m], L.bias[m]),
                           L.shift, L.a_out_bits));
    std::vector<std::uint8_t> out(static_cast<std::size_t>(M) * L.pooled_h() * L.pooled_w());
    pool2d(y.data(), M, L.out_h(), L.out_w(), L.pool, L.pool_size, L.pool_stride, out.data());
    return out;
}

std::vector<std::int64_t> NetworkReference::last_output(const NetworkLayer& L, const std::int64_t* acc,
                                                        std::int64_t sx) {
    std::vector<std::int64_t> logits(L.M());
    for (int m = 0; m < L.M(); ++m) logits[m] = affine(acc[m], sx, L.mult[m], L.mult_x[m], L.bias[m]);
    return logits;
}

std::vector<std::uint8_t> NetworkReference::tensor_output(const NetworkModel& m, std::size_t node,
                                                          const std::vector<const std::uint8_t*>& inputs) {
    const NetworkLayer& L = m.layers.at(node);
    const std::vector<int> in = m.inputs_of(node);
    const std::size_t hw = static_cast<std::size_t>(L.in_h) * L.in_w;
    const auto params = [&](std::size_t i) {
        TensorOpParams p;
        p.mult_a = L.mult[i];
        p.bias_a = L.bias[i];
        if (i + 1 < L.mult.size()) {
            p.mult_b = L.mult[i + 1];
            p.bias_b = L.bias[i + 1];
        }
        p.shift = L.shift;
        p.a_out_bits = L.a_out_bits;
        return p;
    };
    std::vector<std::uint8_t> y(L.output_bytes());
    if (L.kind == LayerKind::kAdd) {
        tensor_add(inputs[0], inputs[1], y.size(), params(0), y.data());
    } else if (L.kind == LayerKind::kConcat) {
        std::size_t at = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            const std::size_t n = static_cast<std::size_t>(m.tensor(static_cast<std::size_t>(in[i])).c) * hw;
            tensor_scale(inputs[i], n, params(i), y.data() + at);
            at += n;
        }
    } else if (L.pool == PoolKind::kGlobalAvg) {
        tensor_global_avg(inputs[0], L.in_c, static_cast<int>(hw), params(0), y.data());
    } else {
        std::vector<std::uint8_t> v(static_cast<std::size_t>(L.in_c) * hw);
        tensor_scale(inputs[0], v.size(), params(0), v.data());
        pool2d(v.data(), L.in_c, L.in_h, L.in_w, L.pool, L.pool_size, L.pool_stride, y.data());
    }
    return y;
}

NetworkReference::NetworkReference(const ExecutionPlan& plan) : plan_(plan) {
    for (const LayerPlan& p : plan_.layers) {
        const bool matrix = !p.on_pe && !p.tensor && p.blocks.empty();
        layers_.push_back(matrix ? std::make_unique<ReferenceLayer>(p.matrix, p.mapping, p.adc, plan_.cfg) : nullptr);
        blocks_.emplace_back();
        for (const BlockPlan& b : p.blocks)
            blocks_.back().push_back(std::make_unique<ReferenceLayer>(b.matrix, b.mapping, b.adc, plan_.cfg));
    }
}

std::vector<std::uint8_t> NetworkReference::run_layer(std::size_t l, const std::uint8_t* input,
                                                      std::uint64_t image_index,
                                                      std::vector<std::int64_t>* logits) const {
    const NetworkLayer& L = plan_.layer(l);
    auto vec = layer_vectors(L, input);
    if (l < masks_.size() && masks_[l] != 0xFF)
        for (std::uint8_t& v : vec) v &= masks_[l];
    const int n = L.vectors();
    if (!blocks_[l].empty()) {
        // A grouped conv: each block on its rows of the im2col vectors, post-processed with its own input
        // sums into its output channels; then the layer's pooling.
        const std::vector<BlockPlan>& blocks = plan_.layers[l].blocks;
        std::vector<std::uint8_t> y(static_cast<std::size_t>(L.M()) * n);
        for (std::size_t b = 0; b < blocks.size(); ++b) {
            const ConvBlock& cb = blocks[b].block;
            const auto rows = block_rows(L.group_shape(), cb, vec.data(), static_cast<std::size_t>(n));
            const auto acc = blocks_[l][b]->run(rows.data(), n, image_index * static_cast<std::uint64_t>(n));
            for (int v = 0; v < n; ++v) {
                std::int64_t sx = 0;
                for (int k = 0; k < cb.K; ++k) sx += rows[static_cast<std::size_t>(v) * cb.K + k];
                for (int j = 0; j < cb.M; ++j) {
                    const int m = cb.first_out + j;
                    y[static_cast<std::size_t>(m) * n + v] = static_cast<std::uint8_t>(requantize(
                        affine(acc[static_cast<std::size_t>(v) * cb.M + j], sx, L.mult[m], L.mult_x[m], L.bias[m]),
                        L.shift, L.a_out_bits));
                }
            }
        }
        std::vector<std::uint8_t> out(L.output_bytes());
        pool2d(y.data(), L.M(), L.out_h(), L.out_w(), L.pool, L.pool_size, L.pool_stride, out.data());
        return out;
    }
    std::vector<std::int64_t> acc;
    if (layers_[l]) {
        acc = layers_[l]->run(vec.data(), n, image_index * static_cast<std::uint64_t>(n));
    } else {  // the PE array: exact integer products with the (decomposed) weights
        const int K = L.K(), M = L.M();
        const std::vector<std::int8_t>& w = plan_.layers[l].pe.weights;
        acc.assign(static_cast<std::size_t>(n) * M, 0);
        for (int v = 0; v < n; ++v)
            for (int m = 0; m < M; ++m) {
                std::int64_t s = 0;
                for (int k = 0; k < K; ++k)
                    s += static_cast<std::int64_t>(vec[static_cast<std::size_t>(v) * K + k]) * w[static_cast<std::size_t>(m) * K + k];
                acc[static_cast<std::size_t>(v) * M + m] = s;
            }
    }
    std::vector<std::int64_t> sx(n, 0);
    for (int v = 0; v < n; ++v)
        for (int k = 0; k < L.K(); ++k) sx[v] += vec[static_cast<std::size_t>(v) * L.K() + k];
    if (!L.relu) {
        if (logits) *logits = last_output(L, acc.data(), sx[0]);
        return {};
    }
    return hidden_output(L, acc.data(), sx.data());
}

std::vector<std::vector<std::uint8_t>> NetworkReference::tensors(const std::uint8_t* image, std::uint64_t image_index,
                                                                  std::size_t nodes,
                                                                  std::vector<std::int64_t>* logits) const {
    const NetworkModel& m = plan_.model;
    std::vector<std::vector<std::uint8_t>> t(nodes + 1);
    t[0].assign(image, image + m.image_bytes());
    for (std::size_t l = 0; l < nodes; ++l) {
        const std::vector<int> in = m.inputs_of(l);
        if (plan_.layers[l].tensor) {
            std::vector<const std::uint8_t*> x;
            for (int j : in) x.push_back(t[static_cast<std::size_t>(j)].data());
            t[l + 1] = tensor_output(m, l, x);
        } else {
            t[l + 1] = run_layer(l, t[static_cast<std::size_t>(in[0])].data(), image_index, logits);
        }
    }
    return t;
}

std::vector<std::uint8_t> NetworkReference::layer_input(const std::uint8_t* image, std::size_t l,
                                                        std::uint64_t image_index) const {
    if (l > plan_.size())
        throw std::out_of_range("layer_input: the plan has " + std::to_string(plan_.size()) + " layers");
    const std::size_t index = l < plan_.size() ? static_cast<std::size_t>(plan_.model.inputs_of(l)[0]) : l;
    if (plan_.model.is_chain()) {  // only the layers before it, one tensor at a time
        std::vector<std::uint8_t> x(image, image + plan_.model.image_bytes());
        for (std::size_t i = 0; i < index; ++i) x = run_layer(i, x.data(), image_index, nullptr);
        return x;
    }
    return tensors(image, image_index, index, nullptr)[index];
}

std::vector<std::int64_t> NetworkReference::logits(const std::uint8_t* image, std::uint64_t image_index) const {
    std::vector<std::int64_t> out;
    if (plan_.model.is_chain()) {
        std::vector<std::uint8_t> x(image, image + plan_.model.image_bytes());
        for (std::size_t l = 0; l < plan_.size(); ++l) x = run_layer(l, x.data(), image_index, &out);
        return out;
    }
    tensors(image, image_index, plan_.size(), &out);
    return out;
}

CalibrationInputs reference_calibration(const std::uint8_t* images, int n) {
    return [images, n](const ExecutionPlan& so_far, std::size_t l) {
        const NetworkReference ref(so_far);
        const NetworkLayer& L = so_far.layer(l);
        std::vector<std::uint8_t> x;
        for (int i = 0; i < n; ++i) {
            const auto in = ref.layer_input(images + static_cast<std::size_t>(i) * so_far.model.image_bytes(), l,
                                            static_cast<std::uint64_t>(i));
            const auto v = NetworkReference::layer_vectors(L, in.data());
            x.insert(x.end(), v.begin(), v.end());
        }
        return x;
    };
}

ExecutionPlan compile_with_reference(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options,
                                     const std::uint8_t* calibration_images, int n) {
    return compile_network(model, cfg, options,
                           calibration_images && n > 0 ? reference_calibration(calibration_images, n)
                                                       : CalibrationInputs{});
}

int argmax(const std::vector<std::int64_t>& logits) {
    int best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[best]) best = static_cast<int>(i);
    return best;
}

}  // namespace cimvp
