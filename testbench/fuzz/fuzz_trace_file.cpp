// libFuzzer harness of the trace parser (sw/formats/trace_file.h, docs/trace-format.md): parse_trace on
// the input as text; when it takes it, every layer's derived sizes (the work a run plans from) and the
// round trip format_trace -> parse_trace, which must give the same canonical text. The only expected
// rejection is a TraceError. Drawing a layer's weights (build_trace_workload) is left out: it allocates
// up to the documented per-layer limits, seconds of work per input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sw/formats/trace_file.h"
#include "testbench/fuzz/fuzz_support.h"

using namespace cimvp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    NetworkTrace t;
    if (!fuzz::accepted<TraceError>([&] { t = parse_trace(text, "fuzz.trace"); })) return 0;
    std::int64_t work = t.macs();
    for (const TraceLayer& L : t.layers) work += L.weight_count() + L.out_h() * L.out_w();
    fuzz::require(work >= 0, "a layer's weights, MACs or output size is negative");
    const std::string canonical = format_trace(t);
    NetworkTrace back;
    fuzz::require(fuzz::accepted<TraceError>([&] { back = parse_trace(canonical, "fuzz.trace (formatted)"); }),
                  "parse_trace refuses what format_trace wrote of a trace it took");
    fuzz::require(format_trace(back) == canonical, "format(parse(format(t))) differs from format(t)");
    return 0;
}
