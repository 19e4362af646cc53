// The C++ reference of a whole network (docs/numerics.md, "Networks" and
// "Graph networks"): each layer of an execution plan through ReferenceLayer
// (a grouped conv block by block), then post-processing and pooling; the
// tensor nodes through sw/contract/tensor_ops.h. The oracle for `cimvp run`, and what the PyTorch fake-quant model
// must equal.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hw/arch_config.h"
#include "sw/compiler/network_compiler.h"
#include "sw/compiler/plan.h"
#include "sw/formats/model_file.h"
#include "sw/reference/reference.h"

namespace cimvp {

// Evaluates an execution plan (sw/compiler/plan.h) image by image: each crossbar layer
// through ReferenceLayer on the plan's tiles and ADC tables, each PE-array layer as the
// exact integer product with the plan's SWIS groups' weights, then post-processing and
// pooling. It neither maps, decomposes nor calibrates anything itself.
class NetworkReference {
public:
    // Keeps a reference to the plan, which must outlive it. A plan compiled up to some layer
    // (the compiler's calibration) evaluates the layers it has.
    explicit NetworkReference(const ExecutionPlan& plan);
    explicit NetworkReference(ExecutionPlan&&) = delete;  // a temporary plan would not outlive it

    const ExecutionPlan& plan() const { return plan_; }
    const NetworkModel& model() const { return plan_.model; }

    // What the Act baseline computes (docs/swis.md, "Baselines"; `cimvp swis` only, no hardware path):
    // layer l's input vectors ANDed with masks[l] (swis::activation_truncation_mask), one per plan
    // layer; empty, or 0xFF for a layer, keeps its inputs whole.
    void set_input_masks(std::vector<std::uint8_t> masks) { masks_ = std::move(masks); }

    // Logits (num_classes int64) of one image; image_index keys the read noise.
    std::vector<std::int64_t> logits(const std::uint8_t* image, std::uint64_t image_index) const;
    // The input activations of layer `l` (CHW bytes; a graph: its input 0) for an image (for
    // calibration and tests); l may be the plan's layer count: the output of its last (hidden) layer.
    std::vector<std::uint8_t> layer_input(const std::uint8_t* image, std::size_t l, std::uint64_t image_index) const;
    // Every tensor of an image (index as NetworkModel::tensor: 0 = the image), through the plan's nodes
    // (all of them, or the first `nodes`); the logits' tensor is empty, the logits go to *logits.
    std::vector<std::vector<std::uint8_t>> tensors(const std::uint8_t* image, std::uint64_t image_index,
                                                   std::size_t nodes, std::vector<std::int64_t>* logits) const;

    // Vectors of a layer from its input tensor: im2col for conv, the tensor for fc.
    static std::vector<std::uint8_t> layer_vectors(const NetworkLayer& L, const std::uint8_t* input);
    // Post-processing + pooling of a hidden layer: acc (vectors x M), sx per vector -> pooled CHW bytes.
    static std::vector<std::uint8_t> hidden_output(const NetworkLayer& L, const std::int64_t* acc, const std::int64_t* sx);
    // Logits of the last layer (one vector).
    static std::vector<std::int64_t> last_output(const NetworkLayer& L, const std::int64_t* acc, std::int64_t sx);
    // A tensor node (add, concat, pool) on its input tensors (docs/numerics.md, "Graph networks").
    static std::vector<std::uint8_t> tensor_output(const NetworkModel& m, std::size_t node,
                                                   const std::vector<const std::uint8_t*>& inputs);

private:
    // Runs layer l on its input tensor; returns the next input (hidden) or fills logits (last).
    std::vector<std::uint8_t> run_layer(std::size_t l, const std::uint8_t* input, std::uint64_t image_index,
                                        std::vector<std::int64_t>* logits) const;

    const ExecutionPlan& plan_;
    std::vector<std::unique_ptr<ReferenceLayer>> layers_;  // per crossbar layer; null on the PE array
    std::vector<std::vector<std::unique_ptr<ReferenceLayer>>> blocks_;  // per grouped conv: its blocks
    std::vector<std::uint8_t> masks_;  // set_input_masks
};

// The compiler's calibration inputs (sw/compiler/network_compiler.h) from the C++ reference:
// a layer's input vectors over n images (n x image_bytes, which must outlive the
// compilation), image i keyed i for the read noise, through the layers compiled so far.
CalibrationInputs reference_calibration(const std::uint8_t* images, int n);

// Compiles a network, calibrating its ADC tables (where they must be) on n images.
ExecutionPlan compile_with_reference(const NetworkModel& model, const ArchConfig& cfg, const NetworkOptions& options,
                                     const std::uint8_t* calibration_images, int n);

// The class of a logit vector: the largest, the lowest index on a tie.
int argmax(const std::vector<std::int64_t>& logits);

}  // namespace cimvp
