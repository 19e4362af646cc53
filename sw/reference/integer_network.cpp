#include "sw/reference/integer_network.h"

#include "sw/contract/layer_mapping.h"
#include "sw/reference/network_reference.h"

namespace cimvp {

bool IntegerNetwork::applies(const NetworkModel& model, const ArchConfig& cfg) {
    if (cfg.nonideal.enabled() || !model.is_chain()) return false;  // a chain of conv and fc layers
    for (const NetworkLayer& L : model.layers)
        if (L.has_adc_tables || !L.col_mult.empty() || !adc_is_lossless(LayerMapping::make(L.matrix(""), cfg), cfg))
            return false;
    return true;
}

std::vector<std::int64_t> IntegerNetwork::logits(const std::uint8_t* image) const {
    std::vector<std::uint8_t> x(image, image + model_.image_bytes());
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
        const NetworkLayer& L = model_.layers[l];
        std::vector<std::uint8_t> vecs = NetworkReference::layer_vectors(L, x.data());
        if (l < masks_.size() && masks_[l] != 0xFF)
            for (std::uint8_t& v : vecs) v &= masks_[l];
        const int n = L.vectors(), K = L.K(), M = L.M();
        std::vector<std::int64_t> acc(static_cast<std::size_t>(n) * M), sx(n, 0);
        // |sum| <= 255 * 128 * K: 32-bit sums while that fits.
        const bool narrow = static_cast<std::int64_t>(K) * 255 * 128 < (std::int64_t{1} << 31);
        for (int v = 0; v < n; ++v) {
            const std::uint8_t* xv = &vecs[static_cast<std::size_t>(v) * K];
            for (int k = 0; k < K; ++k) sx[v] += xv[k];
            for (int m = 0; m < M; ++m) {
                const std::int8_t* wm = &L.weights[static_cast<std::size_t>(m) * K];
                std::int64_t a = 0;
                if (narrow) {
                    std::int32_t a32 = 0;
                    for (int k = 0; k < K; ++k) a32 += static_cast<std::int32_t>(xv[k]) * wm[k];
                    a = a32;
                } else {
                    for (int k = 0; k < K; ++k) a += static_cast<std::int64_t>(xv[k]) * wm[k];
                }
                acc[static_cast<std::size_t>(v) * M + m] = a;
            }
        }
        if (!L.relu) return NetworkReference::last_output(L, acc.data(), sx[0]);
        x = NetworkReference::hidden_output(L, acc.data(), sx.data());
    }
    return {};
}

}  // namespace cimvp
