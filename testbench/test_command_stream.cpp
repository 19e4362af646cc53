// Recorded command stream format v1 (sw/formats/command_stream.h, docs/record-format.md):
// what the writer produces reads back the same, and what the reader says about
// truncated, corrupted or foreign files; the per-list totals.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sw/formats/command_stream.h"

namespace cimvp {
namespace {

constexpr std::uint64_t kCtrlBase = 0x40000000;

StreamEvent access(StreamEventKind k, std::uint64_t t, std::uint64_t addr, std::vector<std::uint8_t> data,
                   std::uint8_t response = 1) {
    StreamEvent e;
    e.kind = k;
    e.time_ps = t;
    e.address = addr;
    e.data = std::move(data);
    e.response = response;
    return e;
}

StreamEvent irq_wait(std::uint64_t t, std::uint64_t end, bool raised = true) {
    StreamEvent e;
    e.kind = StreamEventKind::kIrqWait;
    e.time_ps = t;
    e.timeout_ps = 10'000'000'000'000ULL;
    e.end_ps = end;
    e.raised = raised;
    return e;
}

std::vector<std::uint8_t> le32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 24)};
}

CommandStream sample() {
    CommandStream s;
    s.config_json = R"({"adc":{"bits":5}})";
    s.info_json = R"({"command":"layer"})";
    std::vector<std::uint8_t> bulk(5000);
    for (std::size_t i = 0; i < bulk.size(); ++i) bulk[i] = static_cast<std::uint8_t>(i * 7);
    s.events.push_back(access(StreamEventKind::kWrite, 0, 0x1000, bulk));
    s.events.push_back(access(StreamEventKind::kWrite, 1000, kCtrlBase + 0x08, le32(1)));
    s.events.push_back(irq_wait(1000, 51000));
    s.events.push_back(access(StreamEventKind::kRead, 51000, kCtrlBase + 0x2C, le32(123)));
    s.events.push_back(access(StreamEventKind::kRead, 52000, kCtrlBase + 0x30, le32(1)));
    s.events.push_back(access(StreamEventKind::kRead, 53000, 0x7000000000ULL, std::vector<std::uint8_t>(8, 0), 3));
    return s;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
    try {
        parse_command_stream(bytes, "rec.bin");
    } catch (const CommandStreamError& e) {
        return e.what();
    }
    return "";
}

TEST(CommandStream, WrittenStreamReadsBackEventByEvent) {
    const CommandStream s = sample();
    const CommandStream back = parse_command_stream(serialize_command_stream(s), "rec.bin");
    EXPECT_EQ(back.config_json, s.config_json);
    EXPECT_EQ(back.info_json, s.info_json);
    ASSERT_EQ(back.events.size(), s.events.size());
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        const StreamEvent &a = s.events[i], &b = back.events[i];
        EXPECT_EQ(a.kind, b.kind) << i;
        EXPECT_EQ(a.time_ps, b.time_ps) << i;
        EXPECT_EQ(a.address, b.address) << i;
        EXPECT_EQ(a.response, b.response) << i;
        EXPECT_EQ(a.data, b.data) << i;
        EXPECT_EQ(a.timeout_ps, b.timeout_ps) << i;
        EXPECT_EQ(a.end_ps, b.end_ps) << i;
        EXPECT_EQ(a.raised, b.raised) << i;
    }
}

TEST(CommandStream, RepetitiveBulkDataIsCompressed) {
    CommandStream s;
    s.events.push_back(access(StreamEventKind::kWrite, 0, 0, std::vector<std::uint8_t>(1 << 20, 0x55)));
    EXPECT_LT(serialize_command_stream(s).size(), std::size_t{1} << 14);
}

TEST(CommandStream, TallyCountsListsCyclesAndStartToInterruptTime) {
    CommandListTally t(kCtrlBase);
    for (const auto& e : sample().events) t.add(e);
    EXPECT_EQ(t.totals().lists, 1u);
    EXPECT_EQ(t.totals().cycles, 123u + (std::uint64_t{1} << 32));
    EXPECT_DOUBLE_EQ(t.totals().sim_time_ns, 50.0);
}

TEST(CommandStream, WrongMagicIsNamed) {
    auto bytes = serialize_command_stream(sample());
    bytes[0] = 'X';
    EXPECT_NE(error_of(bytes).find("rec.bin: offset 0: magic: expected \"CIMVPREC\""), std::string::npos)
        << error_of(bytes);
}

TEST(CommandStream, OtherVersionIsRefusedWithTheExpectedOne) {
    auto bytes = serialize_command_stream(sample());
    bytes[8] = 2;
    EXPECT_NE(error_of(bytes).find("offset 8: version: expected 1, got 2"), std::string::npos) << error_of(bytes);
}

TEST(CommandStream, TruncatedFileNamesTheSizeField) {
    auto bytes = serialize_command_stream(sample());
    bytes.resize(bytes.size() - 10);
    EXPECT_NE(error_of(bytes).find("offset 24: compressed_bytes"), std::string::npos) << error_of(bytes);
    bytes.resize(20);
    EXPECT_NE(error_of(bytes).find("offset 0: header: expected 36 bytes"), std::string::npos) << error_of(bytes);
}

// A flipped bit is refused, or it sat where deflate ignores it (padding, an unused
// code) and the content read back is exactly the original: never silently other data.
TEST(CommandStream, EveryFlippedByteIsRejectedOrChangesNothing) {
    const auto good = serialize_command_stream(sample());
    const auto original = parse_command_stream(good, "rec.bin");
    int refused = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        auto bad = good;
        bad[i] ^= 0x10;
        if (!error_of(bad).empty()) {
            ++refused;
            continue;
        }
        // Accepted: the inflated body must be the original one, byte for byte.
        const auto back = parse_command_stream(bad, "rec.bin");
        EXPECT_EQ(serialize_command_stream(back), good) << "byte " << i << " flipped changed the content";
    }
    EXPECT_GT(refused, static_cast<int>(good.size()) * 9 / 10);
}

TEST(CommandStream, CorruptedBodyFailsTheChecksumOrTheInflate) {
    auto bytes = serialize_command_stream(sample());
    bytes[bytes.size() / 2] ^= 0xFF;
    const std::string e = error_of(bytes);
    EXPECT_TRUE(e.find("crc32") != std::string::npos || e.find("compressed body") != std::string::npos) << e;
}

TEST(CommandStream, MissingFileIsNamed) {
    try {
        read_command_stream("/nonexistent/rec.bin");
        FAIL() << "no error";
    } catch (const CommandStreamError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/rec.bin"), std::string::npos);
    }
}

TEST(CommandStream, FileIsTheHeaderAroundTheBodyTheRecordsAreParsedFrom) {
    const std::vector<std::uint8_t> file = serialize_command_stream(sample());
    const std::vector<std::uint8_t> body = command_stream_body(file, "rec.bin");
    EXPECT_LT(file.size(), body.size());  // the 5000 bulk bytes compress
    EXPECT_EQ(command_stream_file(body), file);
    std::vector<std::uint8_t> more = body;
    more.push_back(0);  // a byte after the last event, behind a valid header and CRC
    const std::string error = error_of(command_stream_file(more));
    EXPECT_NE(error.find("end of body"), std::string::npos) << error;
}

std::string info_error_of(const std::string& info) {
    try {
        parse_recording_info(info);
    } catch (const CommandStreamError& e) {
        return e.what();
    }
    return "";
}

TEST(CommandStream, InfoObjectFieldsTheReplayReadsAreTypeChecked) {
    const nlohmann::json info = parse_recording_info(R"({"command":"run","command_lists":3,"cycles":40,"sim_time_ns":2.5})");
    const CommandListTotals t = recorded_totals(info);
    EXPECT_EQ(t.lists, 3u);
    EXPECT_EQ(t.cycles, 40u);
    EXPECT_EQ(t.sim_time_ns, 2.5);
    EXPECT_EQ(recorded_totals(parse_recording_info("{}")).lists, 0u);
    EXPECT_EQ(info_error_of("[1]"), "info: expected a JSON object, got array");
    EXPECT_EQ(info_error_of(R"({"cycles":"40"})"), "info.cycles: expected an unsigned integer, got string");
    EXPECT_EQ(info_error_of(R"({"end_ps":-1})"), "info.end_ps: expected an unsigned integer, got number");
    EXPECT_EQ(info_error_of(R"({"sim_time_ns":null})"), "info.sim_time_ns: expected a number, got null");
    EXPECT_EQ(info_error_of(R"({"command":1})"), "info.command: expected a string, got number");
    EXPECT_NE(info_error_of(R"({"a":1,"a":2})").find("duplicate key"), std::string::npos);
}

}  // namespace
}  // namespace cimvp
