// SWIS groups (sw/contract/swis.h) as the packed bit stream of the model file
// (docs/swis.md "Storage", docs/model-format.md): written by the compiler
// (sw/compiler/swis_storage), read and validated by the model loader.
#pragma once

#include <cstdint>
#include <vector>

#include "sw/contract/swis.h"

namespace cimvp::swis {

// The groups as a bit stream (docs/swis.md "Storage"): groups in
// [filter][ky][kx][channel group] order, each M sign bits, then the shifts
// (SWIS: N x 3 bits, shift[0] first; SWIS-C: the 3-bit offset = the lowest
// shift), then N mask planes of M bits (plane j: bit i = mask bit j of weight i);
// bits filled LSB first, no padding between groups, the last byte zero-padded.
// The size is ceil(layer_storage_bits / 8) bytes. N per filter is not in the
// stream: it is layer.shifts. Throws SwisError when a group does not match its
// filter's N or is not a valid group.
std::vector<std::uint8_t> pack_groups(const DecomposedLayer& layer);
// The inverse; validates the size, the padding, every shift set (distinct,
// descending, 0..7; SWIS-C offset <= 8 - N), that no level exceeds 127 and
// that lanes beyond the channels are empty. Throws SwisError naming the group.
DecomposedLayer unpack_groups(const std::vector<std::uint8_t>& bytes, const LayerShape& shape, Variant variant,
                              const std::vector<int>& filter_n);

}  // namespace cimvp::swis
