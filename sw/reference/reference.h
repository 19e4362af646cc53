// The C++ reference of the numeric contract (docs/numerics.md): no SystemC,
// the oracle that the SystemC platform, the RTL and the PyTorch fake-quant
// model are tested against.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/arch_config.h"
#include "sw/contract/crossbar_array.h"
#include "sw/contract/layer_mapping.h"

namespace cimvp {

// A layer laid onto crossbar arrays, ready to run vectors through.
class ReferenceLayer {
public:
    ReferenceLayer(const MatrixLayer& layer, const LayerMapping& map, AdcTables adc, const ArchConfig& cfg);

    // Integer accumulators of n input vectors (each K bytes), n x M, row-major.
    // first_vector numbers the vectors for the read-noise draws.
    std::vector<std::int64_t> run(const std::uint8_t* x, int n, std::uint64_t first_vector = 0) const;

    // Bit-level cell operations of one vector: K * (M * cols_per_out) cells * cell_bits * a_bits.
    double cell_bit_ops_per_vector() const;

private:
    LayerMapping map_;
    AdcTables adc_;
    int frac_bits_;
    std::vector<CrossbarArray> arrays_;  // [rt * col_tiles + ct]
    std::vector<std::int64_t> col_mult_;  // [rt * M + m]
    std::vector<char> identity_;          // [rt * col_tiles + ct]: the tile's ADC passes partial sums unchanged
};

// The plain integer matrix product y[v][m] = sum_k x[v][k] * w[k][m]: what
// the contract must equal when the ADC is lossless and the devices ideal.
std::vector<std::int64_t> integer_matmul(const MatrixLayer& layer, const std::uint8_t* x, int n);

}  // namespace cimvp
