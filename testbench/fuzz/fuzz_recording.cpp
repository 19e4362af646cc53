// libFuzzer harness of the recorded command stream loader (sw/formats/command_stream.h,
// docs/record-format.md): parse_command_stream on the input; when it takes it, what `cimvp replay` reads
// before it builds the platform (the stored configuration with config_from_text, the info object with
// parse_recording_info and recorded_totals), the command-list tally over the events, and the round trip
// serialize_command_stream -> parse_command_stream, which must reproduce the same bytes. Expected
// rejections: CommandStreamError, and ConfigError for the stored configuration.
//
// The custom mutator works on the inflated body: it takes the body out of the file (command_stream_body),
// mutates it and wraps it again with a valid header, size and CRC (command_stream_file), so that mutations
// reach the records behind the compression; one mutation in eight, or one the file cannot take, changes
// the file's bytes themselves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/address_map.h"
#include "sw/formats/command_stream.h"
#include "sw/formats/config_loader.h"
#include "testbench/fuzz/fuzz_support.h"

using namespace cimvp;

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    if (seed % 8 != 0) {
        std::vector<std::uint8_t> body;
        if (fuzz::accepted<CommandStreamError>(
                [&] { body = command_stream_body(std::vector<std::uint8_t>(data, data + size), "seed"); })) {
            const std::size_t n = body.size();
            body.resize(std::max<std::size_t>(2 * n, n + 256));
            body.resize(LLVMFuzzerMutate(body.data(), n, body.size()));
            const std::vector<std::uint8_t> file = command_stream_file(body);
            if (file.size() <= max_size) {
                std::memcpy(data, file.data(), file.size());
                return file.size();
            }
        }
    }
    return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> bytes(data, data + size);
    CommandStream s;
    if (!fuzz::accepted<CommandStreamError>([&] { s = parse_command_stream(bytes, "fuzz.cimvprec"); })) return 0;
    fuzz::accepted<ConfigError>([&] { config_from_text(s.config_json, "fuzz.cimvprec: config"); });
    fuzz::accepted<CommandStreamError>([&] { recorded_totals(parse_recording_info(s.info_json)); });
    CommandListTally tally(kControllerBase);
    for (const StreamEvent& e : s.events) tally.add(e);
    const std::vector<std::uint8_t> again = serialize_command_stream(s);
    CommandStream back;
    fuzz::require(fuzz::accepted<CommandStreamError>([&] { back = parse_command_stream(again, "fuzz.cimvprec (written)"); }),
                  "parse_command_stream refuses what serialize_command_stream wrote of a stream it took");
    fuzz::require(serialize_command_stream(back) == again, "serialize(parse(serialize(s))) differs from serialize(s)");
    return 0;
}
