// Network trace format v1 (docs/trace-format.md): a network's layer shapes as
// text, one record per line, with the statistics to draw weights and
// activations from. The parser validates every record once and rejects a
// malformed trace with `file:line: field: expected ..., got ...`.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp {

struct TraceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kTraceVersion = 1;
constexpr const char* kTraceMagic = "cimvp-trace";

enum class TraceLayerType { kConv, kDwConv, kFc, kPool, kAdd };
enum class TraceScheme { kInt8, kBwma, kColumnwise, kSwis };
enum class TraceMap { kCrossbar, kPe };
enum class TracePool { kMax, kAvg };

const char* trace_name(TraceLayerType t);  // "conv", "dwconv", "fc", "pool", "add"
const char* trace_name(TraceScheme s);     // "int8", "bwma", "columnwise", "swis"
const char* trace_name(TraceMap m);        // "crossbar", "pe"
const char* trace_name(TracePool p);       // "max", "avg"

// A value distribution: `family:param` or `family`.
struct TraceDistribution {
    std::string family;
    double param = 0;
    bool has_param = false;
    std::string text() const;
};

struct TraceLayer {
    int line = 0;  // where it was read (messages)
    std::string name;
    TraceLayerType type = TraceLayerType::kConv;
    int in_c = 0, in_h = 0, in_w = 0;
    int out_c = 0;
    int kernel = 1, stride = 1, padding = 0, groups = 1;
    int w_bits = 0, a_bits = 0;  // layers with weights (conv, dwconv, fc)
    TraceScheme scheme = TraceScheme::kInt8;
    TraceMap map = TraceMap::kPe;
    TracePool pool = TracePool::kMax;  // pool layers

    bool has_weights() const {
        return type == TraceLayerType::kConv || type == TraceLayerType::kDwConv || type == TraceLayerType::kFc;
    }
    bool spatial() const { return type != TraceLayerType::kFc && type != TraceLayerType::kAdd; }
    int out_h() const { return spatial() ? (in_h + 2 * padding - kernel) / stride + 1 : (type == TraceLayerType::kAdd ? in_h : 1); }
    int out_w() const { return spatial() ? (in_w + 2 * padding - kernel) / stride + 1 : (type == TraceLayerType::kAdd ? in_w : 1); }
    // Inputs of one filter: conv (in_c / groups) k^2, dwconv k^2, fc in_c in_h in_w; 0 without weights.
    std::int64_t K() const;
    std::int64_t weight_count() const { return has_weights() ? static_cast<std::int64_t>(out_c) * K() : 0; }
    std::int64_t macs() const { return weight_count() * out_h() * out_w(); }
};

struct TraceNetwork {
    std::string name;
    std::string dataset;  // optional
    int in_c = 0, in_h = 0, in_w = 0;
    int classes = 0;  // optional (0: not given)
};

struct TraceData {
    std::uint64_t seed = 1;
    TraceDistribution act;      // "uniform" or "relu-uniform:P"
    TraceDistribution weights;  // "normal:S", "laplace:B" or "uniform:A" (fractions of 127)
};

struct NetworkTrace {
    std::string source;  // file it came from (messages)
    int version = kTraceVersion;
    TraceNetwork network;
    TraceData data;
    std::vector<TraceLayer> layers;
    std::int64_t macs() const;
};

// Reads and validates a trace file. Throws TraceError.
// Limits of one trace layer, checked while parsing (docs/trace-format.md): its input and output
// tensors (values per image), its inputs per filter, its weights and its MACs per image.
inline constexpr std::int64_t kMaxTraceTensorBytes = std::int64_t{1} << 26;
inline constexpr std::int64_t kMaxTraceK = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxTraceWeights = std::int64_t{1} << 27;
inline constexpr std::int64_t kMaxTraceMacs = std::int64_t{1} << 36;
// A trace file larger than this is refused before it is parsed.
inline constexpr std::uint64_t kMaxTraceFileBytes = 16ull << 20;
NetworkTrace load_trace(const std::string& path);
// Parses and validates trace text; `source` names it in messages. Throws TraceError.
NetworkTrace parse_trace(const std::string& text, const std::string& source);
// The canonical text of a trace (no comments); parse_trace(format_trace(t)) equals t.
std::string format_trace(const NetworkTrace& t);

// The int8 weights of layer `index` (which must have weights), [out_c][K] with K
// in (c, ky, kx) order, drawn from the data line (docs/trace-format.md "Data").
std::vector<std::int8_t> trace_layer_weights(const NetworkTrace& t, std::size_t index);
// Filters first_filter .. first_filter + filters - 1 of them (the same values as in the whole draw).
std::vector<std::int8_t> trace_layer_weights(const NetworkTrace& t, std::size_t index, int first_filter, int filters);
// `count` input activations of layer `index` (a_bits wide; 8 for layers without weights),
// activations first .. first + count - 1 of the layer's draw sequence.
std::vector<std::uint8_t> trace_layer_activations(const NetworkTrace& t, std::size_t index, std::size_t count,
                                                  std::uint64_t first = 0);

}  // namespace cimvp
