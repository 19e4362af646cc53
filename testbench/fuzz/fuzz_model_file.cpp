// libFuzzer harness of the model file loader (sw/formats/model_file.h, docs/model-format.md): parse_model
// on the input; when it takes it, what `cimvp run` and `cimvp info` do next with a model before compiling
// it (check_model_fits on the default configuration), and the round trip serialize_model -> parse_model,
// which must reproduce the same bytes. The only expected rejection is a ModelError.
//
// The custom mutator keeps most inputs behind a valid checksum: it mutates the bytes before the
// 16-byte footer and recomputes the FNV-1a 64 in it, so that mutations reach the fields the
// checksum guards; one mutation in eight changes the whole input, footer included.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hw/arch_config.h"
#include "sw/formats/model_file.h"
#include "testbench/fuzz/fuzz_support.h"
#include "testbench/model_builders.h"

using namespace cimvp;

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    constexpr std::size_t kFooter = test::kModelFooterBytes;
    if (seed % 8 == 0 || size < kFooter || max_size <= kFooter) return LLVMFuzzerMutate(data, size, max_size);
    std::uint8_t footer[kFooter];
    std::memcpy(footer, data + size - kFooter, kFooter);
    const std::size_t body = LLVMFuzzerMutate(data, size - kFooter, max_size - kFooter);
    std::memcpy(data + body, footer, kFooter);
    std::vector<std::uint8_t> file(data, data + body + kFooter);
    test::fix_model_checksum(file);
    std::memcpy(data, file.data(), file.size());
    return file.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> bytes(data, data + size);
    NetworkModel m;
    if (!fuzz::accepted<ModelError>([&] { m = parse_model(bytes, "fuzz.cimvp"); })) return 0;
    fuzz::accepted<ModelError>([&] { check_model_fits(m, ArchConfig{}); });
    const std::vector<std::uint8_t> again = serialize_model(m);
    NetworkModel back;
    fuzz::require(fuzz::accepted<ModelError>([&] { back = parse_model(again, "fuzz.cimvp (serialized)"); }),
                  "parse_model refuses what serialize_model wrote of a model it took");
    fuzz::require(serialize_model(back) == again, "serialize(parse(serialize(m))) differs from serialize(m)");
    return 0;
}
