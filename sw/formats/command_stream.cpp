#include "sw/formats/command_stream.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>

#include "sw/formats/config_loader.h"
#include "sw/formats/input_file.h"

namespace cimvp {

namespace {

// Controller register offsets (docs/registers.md; hw/controller.h owns them,
// this file stays free of SystemC so it repeats the three it needs).
constexpr std::uint64_t kRegCtrl = 0x08;
constexpr std::uint64_t kRegPerfCyclesLo = 0x2C;
constexpr std::uint64_t kRegPerfCyclesHi = 0x30;
constexpr std::uint32_t kCtrlStart = 1u << 0;
constexpr std::uint8_t kResponseOk = 1;  // tlm::TLM_OK_RESPONSE

// File header: magic[8], version u32, flags u32, body_bytes u64, compressed_bytes u64, crc32 u32.
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 4;
// Larger bodies are refused before inflating: a corrupted size must not allocate gigabytes.
constexpr std::uint64_t kMaxBodyBytes = std::uint64_t{1} << 32;
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
std::uint64_t le64(const std::uint8_t* p) { return le32(p) | std::uint64_t{le32(p + 4)} << 32; }

class Writer {
public:
    std::vector<std::uint8_t> bytes;
    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void raw(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        bytes.insert(bytes.end(), b, b + n);
    }
    void str(const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
};

// Bounds-checked reads of the inflated body; errors name the field and its offset in the body.
class Reader {
public:
    Reader(const std::vector<std::uint8_t>& b, const std::string& source) : b_(b), source_(source) {}
    [[noreturn]] void fail(const std::string& field, const std::string& expected) const {
        throw CommandStreamError(source_ + ": body offset " + std::to_string(at_) + ": " + field + ": expected " +
                                 expected);
    }
    void need(std::size_t n, const std::string& field) const {
        if (b_.size() - at_ < n)
            fail(field, std::to_string(n) + " more bytes, the body ends after " + std::to_string(b_.size() - at_));
    }
    std::uint8_t u8(const std::string& f) {
        need(1, f);
        return b_[at_++];
    }
    std::uint32_t u32(const std::string& f) {
        need(4, f);
        at_ += 4;
        return le32(&b_[at_ - 4]);
    }
    std::uint64_t u64(const std::string& f) {
        need(8, f);
        at_ += 8;
        return le64(&b_[at_ - 8]);
    }
    std::string str(const std::string& f) {
        const std::uint32_t n = u32(f + " length");
        need(n, f);
        std::string s(reinterpret_cast<const char*>(&b_[at_]), n);
        at_ += n;
        return s;
    }
    void bytes(std::vector<std::uint8_t>& out, std::size_t n, const std::string& f) {
        need(n, f);
        out.assign(b_.begin() + static_cast<std::ptrdiff_t>(at_), b_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
        at_ += n;
    }
    std::size_t offset() const { return at_; }
    bool done() const { return at_ == b_.size(); }

private:
    const std::vector<std::uint8_t>& b_;
    const std::string& source_;
    std::size_t at_ = 0;
};

}  // namespace

CommandListTally::CommandListTally(std::uint64_t controller_base) : base_(controller_base) {}

void CommandListTally::add(const StreamEvent& e) {
    const auto reg32 = [&](std::uint64_t off) {
        return e.address == base_ + off && e.data.size() == 4 && e.response == kResponseOk;
    };
    if (e.kind == StreamEventKind::kWrite && reg32(kRegCtrl) && (le32(e.data.data()) & kCtrlStart)) {
        started_ = true;
        start_ps_ = e.time_ps;
    } else if (e.kind == StreamEventKind::kIrqWait && started_) {
        started_ = false;
        ++totals_.lists;
        totals_.sim_time_ns += static_cast<double>(e.end_ps - start_ps_) / 1000.0;
    } else if (e.kind == StreamEventKind::kRead && reg32(kRegPerfCyclesLo)) {
        cycles_lo_ = le32(e.data.data());
    } else if (e.kind == StreamEventKind::kRead && reg32(kRegPerfCyclesHi)) {
        totals_.cycles += cycles_lo_ | std::uint64_t{le32(e.data.data())} << 32;
    }
}

std::vector<std::uint8_t> serialize_command_stream(const CommandStream& s) {
    Writer body;
    body.str(s.config_json);
    body.str(s.info_json);
    body.u64(s.events.size());
    for (const StreamEvent& e : s.events) {
        body.u8(static_cast<std::uint8_t>(e.kind));
        body.u64(e.time_ps);
        if (e.kind == StreamEventKind::kIrqWait) {
            body.u64(e.timeout_ps);
            body.u64(e.end_ps);
            body.u8(e.raised ? 1 : 0);
        } else {
            body.u8(e.response);
            body.u64(e.address);
            body.u32(static_cast<std::uint32_t>(e.data.size()));
            body.raw(e.data.data(), e.data.size());
        }
    }
    return command_stream_file(body.bytes);
}

std::vector<std::uint8_t> command_stream_file(const std::vector<std::uint8_t>& body) {
    uLongf packed_size = compressBound(static_cast<uLong>(body.size()));
    std::vector<std::uint8_t> packed(packed_size);
    if (compress2(packed.data(), &packed_size, body.data(), static_cast<uLong>(body.size()), Z_BEST_SPEED) != Z_OK)
        throw CommandStreamError("command stream: zlib compression failed");
    packed.resize(packed_size);
    Writer file;
    file.raw(kCommandStreamMagic, sizeof kCommandStreamMagic);
    file.u32(kCommandStreamVersion);
    file.u32(0);  // flags: none defined in v1
    file.u64(body.size());
    file.u64(packed.size());
    file.u32(static_cast<std::uint32_t>(crc32_z(0L, body.data(), body.size())));
    file.raw(packed.data(), packed.size());
    return std::move(file.bytes);
}

void write_command_stream(const std::string& path, const CommandStream& s) {
    const auto bytes = serialize_command_stream(s);
    std::ofstream f(path, std::ios::binary);
    if (!f) throw CommandStreamError(path + ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw CommandStreamError(path + ": write failed");
}

std::vector<std::uint8_t> command_stream_body(const std::vector<std::uint8_t>& file, const std::string& source) {
    const auto fail = [&](std::size_t offset, const std::string& field, const std::string& expected) {
        throw CommandStreamError(source + ": offset " + std::to_string(offset) + ": " + field + ": expected " +
                                 expected);
    };
    if (file.size() < kHeaderBytes)
        fail(0, "header", std::to_string(kHeaderBytes) + " bytes, the file has " + std::to_string(file.size()) +
                              " (truncated or not a recorded command stream)");
    if (std::memcmp(file.data(), kCommandStreamMagic, sizeof kCommandStreamMagic) != 0)
        fail(0, "magic", "\"CIMVPREC\" (a recorded command stream, docs/record-format.md)");
    const std::uint32_t version = le32(&file[8]);
    if (version != kCommandStreamVersion)
        fail(8, "version", std::to_string(kCommandStreamVersion) + ", got " + std::to_string(version));
    const std::uint32_t flags = le32(&file[12]);
    if (flags != 0) fail(12, "flags", "0, got " + std::to_string(flags));
    const std::uint64_t body_bytes = le64(&file[16]);
    const std::uint64_t packed_bytes = le64(&file[24]);
    const std::uint32_t crc = le32(&file[32]);
    if (body_bytes > kMaxBodyBytes) fail(16, "body_bytes", "at most 2^32, got " + std::to_string(body_bytes));
    if (packed_bytes != file.size() - kHeaderBytes)
        fail(24, "compressed_bytes",
             std::to_string(packed_bytes) + " bytes after the header, the file has " +
                 std::to_string(file.size() - kHeaderBytes) + " (truncated or extended)");
    // Deflate expands at most 1032:1 (zlib's technical notes): a larger claim is corrupt, and is refused
    // before the body is allocated.
    if (body_bytes > kMaxDeflateRatio * packed_bytes)
        fail(16, "body_bytes",
             "at most " + std::to_string(kMaxDeflateRatio) + " times the " + std::to_string(packed_bytes) +
                 " compressed bytes (the most a zlib stream inflates to), got " + std::to_string(body_bytes));
    std::vector<std::uint8_t> body(body_bytes);
    uLongf out = static_cast<uLongf>(body_bytes);
    const int z = uncompress(body.data(), &out, file.data() + kHeaderBytes, static_cast<uLong>(packed_bytes));
    if (z != Z_OK || out != body_bytes)
        fail(kHeaderBytes, "compressed body", "a zlib stream inflating to " + std::to_string(body_bytes) +
                                                  " bytes (zlib: " + (z == Z_OK ? std::string("size differs") : zError(z)) +
                                                  ")");
    const std::uint32_t actual = static_cast<std::uint32_t>(crc32_z(0L, body.data(), body.size()));
    if (actual != crc) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "0x%08x, the body's is 0x%08x", crc, actual);
        fail(32, "crc32", buf);
    }
    return body;
}

CommandStream parse_command_stream(const std::vector<std::uint8_t>& file, const std::string& source) {
    const std::vector<std::uint8_t> body = command_stream_body(file, source);
    CommandStream s;
    Reader r(body, source);
    s.config_json = r.str("config");
    s.info_json = r.str("info");
    const std::uint64_t n = r.u64("event count");
    // Every event takes at least 18 bytes: a count larger than the body allows is corrupt.
    if (n > body.size() / 18) r.fail("event count", "at most " + std::to_string(body.size() / 18) + ", got " + std::to_string(n));
    s.events.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        StreamEvent& e = s.events[i];
        const std::string at = "event " + std::to_string(i);
        const std::uint8_t kind = r.u8(at + " kind");
        if (kind < 1 || kind > 3) r.fail(at + " kind", "1 (read), 2 (write) or 3 (interrupt wait), got " + std::to_string(kind));
        e.kind = static_cast<StreamEventKind>(kind);
        e.time_ps = r.u64(at + " time_ps");
        if (e.kind == StreamEventKind::kIrqWait) {
            e.timeout_ps = r.u64(at + " timeout_ps");
            e.end_ps = r.u64(at + " end_ps");
            const std::uint8_t raised = r.u8(at + " raised");
            if (raised > 1) r.fail(at + " raised", "0 or 1, got " + std::to_string(raised));
            e.raised = raised != 0;
            if (e.end_ps < e.time_ps) r.fail(at + " end_ps", "not before time_ps");
        } else {
            e.response = r.u8(at + " response");
            e.address = r.u64(at + " address");
            const std::uint32_t len = r.u32(at + " length");
            r.bytes(e.data, len, at + " data");
        }
    }
    if (!r.done()) r.fail("end of body", "no bytes after the last event");
    return s;
}

nlohmann::json parse_recording_info(const std::string& info_json) {
    nlohmann::json info;
    try {
        info = parse_json_document(info_json, "info");
    } catch (const ConfigError& e) {
        throw CommandStreamError(e.what());
    }
    if (!info.is_object()) throw CommandStreamError("info: expected a JSON object, got " + std::string(info.type_name()));
    for (const char* key : {"command_lists", "cycles", "end_ps"})
        if (info.contains(key) && !info[key].is_number_unsigned())
            throw CommandStreamError(std::string("info.") + key + ": expected an unsigned integer, got " +
                                     info[key].type_name());
    if (info.contains("sim_time_ns") && !info["sim_time_ns"].is_number())
        throw CommandStreamError(std::string("info.sim_time_ns: expected a number, got ") +
                                 info["sim_time_ns"].type_name());
    if (info.contains("command") && !info["command"].is_string())
        throw CommandStreamError(std::string("info.command: expected a string, got ") + info["command"].type_name());
    return info;
}

CommandListTotals recorded_totals(const nlohmann::json& info) {
    CommandListTotals t;
    t.lists = info.value("command_lists", std::uint64_t{0});
    t.cycles = info.value("cycles", std::uint64_t{0});
    t.sim_time_ns = info.value("sim_time_ns", 0.0);
    return t;
}

CommandStream read_command_stream(const std::string& path) {
    return parse_command_stream(
        read_input_file_or_throw<CommandStreamError>(path, "recording", kMaxRecordingFileBytes), path);
}

}  // namespace cimvp
