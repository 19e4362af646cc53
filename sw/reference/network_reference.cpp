#include "sw/reference/network_reference.h"

#include <algorithm>
#include <cmath>

#include <stdexcept>
#include <string>

#include "sw/contract/im2col.h"
#include "sw/contract/post_processing.h"

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

NetworkReference::NetworkReference(const ExecutionPlan& plan) : plan_(plan) {
    for (const LayerPlan& p : plan_.layers)
        layers_.push_back(p.on_pe ? nullptr : std::make_unique<ReferenceLayer>(p.matrix, p.mapping, p.adc, plan_.cfg));
}

std::vector<std::uint8_t> NetworkReference::run_layer(std::size_t l, const std::uint8_t* input,
                                                      std::uint64_t image_index,
                                                      std::vector<std::int64_t>* logits) const {
    const NetworkLayer& L = plan_.layer(l);
    const auto vec = layer_vectors(L, input);
    const int n = L.vectors();
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

std::vector<std::uint8_t> NetworkReference::layer_input(const std::uint8_t* image, std::size_t l,
                                                        std::uint64_t image_index) const {
    if (l > plan_.size())
        throw std::out_of_range("layer_input: the plan has " + std::to_string(plan_.size()) + " layers");
    std::vector<std::uint8_t> x(image, image + plan_.model.image_bytes());
    for (std::size_t i = 0; i < l; ++i) x = run_layer(i, x.data(), image_index, nullptr);
    return x;
}

std::vector<std::int64_t> NetworkReference::logits(const std::uint8_t* image, std::uint64_t image_index) const {
    std::vector<std::uint8_t> x(image, image + plan_.model.image_bytes());
    std::vector<std::int64_t> out;
    for (std::size_t l = 0; l < plan_.size(); ++l) x = run_layer(l, x.data(), image_index, &out);
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
