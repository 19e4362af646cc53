#include "sw/compiler/plan.h"

#include <algorithm>

#include "hw/address_map.h"

namespace cimvp {

std::uint64_t scratch_bytes_for(const NetworkLayer& L, bool on_pe, int images, const std::vector<BlockPlan>& blocks) {
    const std::uint64_t v = static_cast<std::uint64_t>(images) * static_cast<std::uint64_t>(L.vectors());
    if (L.is_tensor()) return 0;
    if (!blocks.empty()) {
        std::uint64_t most = 0;
        for (const BlockPlan& b : blocks)
            most = std::max(most, align_up(v * static_cast<std::uint64_t>(b.block.M) * kAccEntryBytes, kPlanAlign) +
                                      align_up(v * kAccEntryBytes, kPlanAlign) +
                                      align_up(static_cast<std::uint64_t>(images) * b.block.in_channels * L.in_h * L.in_w,
                                               kPlanAlign));
        return most;
    }
    std::uint64_t b = align_up(v * static_cast<std::uint64_t>(L.M()) * kAccEntryBytes, kPlanAlign) +
                      align_up(v * kAccEntryBytes, kPlanAlign);
    if (on_pe) b += align_up(v * static_cast<std::uint64_t>(L.K()), kPlanAlign);
    return b;
}

std::vector<std::uint64_t> activation_buffer_bytes(const NetworkModel& model, int batch) {
    std::vector<std::uint64_t> bytes;
    for (const NetworkLayer& L : model.layers)
        if (L.relu)
            bytes.push_back(static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(L.M()) *
                            static_cast<std::uint64_t>(L.pooled_h()) * static_cast<std::uint64_t>(L.pooled_w()));
    bytes.push_back(static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(model.num_classes) *
                    sizeof(std::int64_t));
    return bytes;
}

TensorPlacement tensor_placement(const ExecutionPlan& plan) {
    TensorPlacement t;
    for (std::size_t b = 1; b < plan.buffers.size(); ++b) {
        const ExecutionPlan::TensorBuffer& buf = plan.buffers[b];
        (buf.on_chip ? t.bytes_on_chip : t.bytes_dram) += buf.bytes;
        t.buffers_on_chip += buf.on_chip;
        ++t.buffers;
    }
    return t;
}

}  // namespace cimvp
