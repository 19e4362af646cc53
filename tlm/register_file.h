// The register map of an MMIO target: 32-bit little-endian registers at
// 4-aligned offsets. A module owns one and calls transport()/transport_dbg()
// from its socket callbacks; the map then checks every bus access the way a
// loosely-timed target must and answers with the matching TLM error response.
//
// Reserved bits: bits outside writable_mask always read 0 and ignore bus
// writes. The mask applies to read-only registers too (it marks the
// implemented bits), so a status register keeps the default all-ones mask.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include <systemc>
#include <tlm>

namespace cimvp::tlmx {

enum class Access { kReadWrite, kReadOnly, kWriteOnly };

struct RegisterSpec {
    std::string name;
    std::uint32_t offset = 0;
    Access access = Access::kReadWrite;
    std::uint32_t reset = 0;
    std::uint32_t writable_mask = 0xffffffff;
};

class RegisterFile {
public:
    // Computes the value a bus read returns from the stored one (then masked).
    using ReadHook = std::function<std::uint32_t(std::uint32_t stored)>;
    // Sees the masked value after it was stored.
    using WriteHook = std::function<void(std::uint32_t value)>;

    // Throws std::invalid_argument on a duplicate offset or name, or an offset that is not 4-aligned.
    // The register starts at reset & writable_mask.
    void add(RegisterSpec spec, ReadHook on_read = {}, WriteHook on_write = {});

    // Bus access at the payload's address (an offset into the map). Never throws:
    // byte enables -> BYTE_ENABLE_ERROR; length or streaming width != 4 -> BURST_ERROR;
    // misaligned or no register there -> ADDRESS_ERROR; write to read-only or read of
    // write-only -> COMMAND_ERROR. Adds the access latency to delay for every access.
    void transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    // Debug access of whole aligned registers, possibly several in a row; no hooks
    // run (a debugger must not trigger read-to-clear). Stops at the first word it
    // may not access and returns the bytes transferred. Writes reach read-write registers only.
    unsigned transport_dbg(tlm::tlm_generic_payload& t);

    void set_access_latency(const sc_core::sc_time& latency) { latency_ = latency; }
    // The message type and the owner's name of the warning every error response is also reported
    // with (tlm/error_report.h); by default "/cimvp/register_file" and "register file".
    // msg_type must outlive the map (a string literal).
    void set_report(const char* msg_type, std::string owner) {
        report_id_ = msg_type;
        owner_ = std::move(owner);
    }
    const sc_core::sc_time& access_latency() const { return latency_; }

    // Hardware side: no access checks, no mask, no hooks. Throw std::out_of_range for an unknown offset.
    std::uint32_t get(std::uint32_t offset) const;
    void set(std::uint32_t offset, std::uint32_t value);
    // Throws std::out_of_range for an unknown name.
    std::uint32_t offset_of(const std::string& name) const;
    bool contains(std::uint32_t offset) const { return regs_.count(offset) != 0; }
    std::size_t size() const { return regs_.size(); }

    // Every register back to its reset value; hooks do not run.
    void reset();

    // One line per register in offset order: offset, name, access, reset, writable mask.
    std::string datasheet() const;

    static const char* access_name(Access a);  // "RW", "RO", "WO"

private:
    struct Register {
        RegisterSpec spec;
        ReadHook on_read;
        WriteHook on_write;
        std::uint32_t value = 0;
    };

    // The register at a 4-aligned, in-range offset, or nullptr.
    Register* lookup(std::uint64_t address);

    std::map<std::uint32_t, Register> regs_;  // ordered for the datasheet
    std::unordered_map<std::string, std::uint32_t> by_name_;
    sc_core::sc_time latency_ = sc_core::SC_ZERO_TIME;
    const char* report_id_ = "/cimvp/register_file";
    std::string owner_ = "register file";
};

}  // namespace cimvp::tlmx
