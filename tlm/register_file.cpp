#include "tlm/register_file.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "tlm/error_report.h"

namespace cimvp::tlmx {

namespace {

std::uint32_t load_le(const unsigned char* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

void store_le(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v);
    p[1] = static_cast<unsigned char>(v >> 8);
    p[2] = static_cast<unsigned char>(v >> 16);
    p[3] = static_cast<unsigned char>(v >> 24);
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
    return buf;
}

}  // namespace

void RegisterFile::add(RegisterSpec spec, ReadHook on_read, WriteHook on_write) {
    if (spec.offset % 4 != 0)
        throw std::invalid_argument("register '" + spec.name + "' at " + hex32(spec.offset) + " is not 4-aligned");
    if (auto it = regs_.find(spec.offset); it != regs_.end())
        throw std::invalid_argument("register '" + spec.name + "' at " + hex32(spec.offset) + " collides with '" +
                                    it->second.spec.name + "'");
    if (by_name_.count(spec.name))
        throw std::invalid_argument("register name '" + spec.name + "' is used twice");
    const std::uint32_t offset = spec.offset;
    by_name_.emplace(spec.name, offset);
    Register r{std::move(spec), std::move(on_read), std::move(on_write), 0};
    r.value = r.spec.reset & r.spec.writable_mask;
    regs_.emplace(offset, std::move(r));
}

RegisterFile::Register* RegisterFile::lookup(std::uint64_t address) {
    if (address % 4 != 0 || address > 0xffffffffu) return nullptr;
    auto it = regs_.find(static_cast<std::uint32_t>(address));
    return it == regs_.end() ? nullptr : &it->second;
}

void RegisterFile::transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    delay += latency_;
    if (t.get_byte_enable_ptr())
        return reject(t, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, report_id_, owner_.c_str(), "byte enables on a register");
    if (t.get_data_length() != 4 || t.get_streaming_width() != 4)
        return reject(t, tlm::TLM_BURST_ERROR_RESPONSE, report_id_, owner_.c_str(),
                      "registers are accessed 4 bytes at a time");
    Register* r = lookup(t.get_address());  // misaligned and reserved offsets alike
    if (!r) return reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, report_id_, owner_.c_str(), "no register there");
    unsigned char* data = t.get_data_ptr();
    const tlm::tlm_command cmd = t.get_command();
    if (cmd == tlm::TLM_IGNORE_COMMAND) {
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    if ((cmd == tlm::TLM_READ_COMMAND && r->spec.access == Access::kWriteOnly) ||
        (cmd == tlm::TLM_WRITE_COMMAND && r->spec.access == Access::kReadOnly))
        return reject(t, tlm::TLM_COMMAND_ERROR_RESPONSE, report_id_, owner_.c_str(),
                      ((cmd == tlm::TLM_READ_COMMAND ? "read of write-only " : "write to read-only ") + r->spec.name)
                          .c_str());
    if (!data) return reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, report_id_, owner_.c_str(), "no data pointer");
    if (cmd == tlm::TLM_READ_COMMAND) {
        const std::uint32_t v = r->on_read ? r->on_read(r->value) : r->value;
        store_le(data, v & r->spec.writable_mask);
    } else {
        r->value = load_le(data) & r->spec.writable_mask;
        if (r->on_write) r->on_write(r->value);
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned RegisterFile::transport_dbg(tlm::tlm_generic_payload& t) {
    unsigned char* data = t.get_data_ptr();
    const tlm::tlm_command cmd = t.get_command();
    if (!data || t.get_byte_enable_ptr() || cmd == tlm::TLM_IGNORE_COMMAND) return 0;
    const unsigned words = t.get_data_length() / 4;
    const std::uint64_t base = t.get_address();
    unsigned done = 0;
    for (; done < words; ++done) {
        Register* r = lookup(base + 4ull * done);
        if (!r) break;
        unsigned char* p = data + 4 * done;
        if (cmd == tlm::TLM_READ_COMMAND) {
            if (r->spec.access == Access::kWriteOnly) break;
            store_le(p, r->value & r->spec.writable_mask);
        } else {
            if (r->spec.access != Access::kReadWrite) break;
            r->value = load_le(p) & r->spec.writable_mask;
        }
    }
    return 4 * done;
}

std::uint32_t RegisterFile::get(std::uint32_t offset) const {
    auto it = regs_.find(offset);
    if (it == regs_.end()) throw std::out_of_range("no register at " + hex32(offset));
    return it->second.value;
}

void RegisterFile::set(std::uint32_t offset, std::uint32_t value) {
    auto it = regs_.find(offset);
    if (it == regs_.end()) throw std::out_of_range("no register at " + hex32(offset));
    it->second.value = value;
}

std::uint32_t RegisterFile::offset_of(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw std::out_of_range("no register named '" + name + "'");
    return it->second;
}

void RegisterFile::reset() {
    for (auto& [offset, r] : regs_) r.value = r.spec.reset & r.spec.writable_mask;
}

const char* RegisterFile::access_name(Access a) {
    switch (a) {
        case Access::kReadWrite: return "RW";
        case Access::kReadOnly: return "RO";
        case Access::kWriteOnly: return "WO";
    }
    return "?";
}

std::string RegisterFile::datasheet() const {
    std::size_t width = 4;
    for (const auto& [offset, r] : regs_) width = std::max(width, r.spec.name.size());
    const auto pad = [width](const std::string& s) { return s + std::string(width - s.size(), ' '); };
    std::string out = "offset      " + pad("name") + "  access  reset       mask\n";
    for (const auto& [offset, r] : regs_) {
        out += hex32(offset) + "  " + pad(r.spec.name) + "  " + access_name(r.spec.access) + "      " +
               hex32(r.spec.reset) + "  " + hex32(r.spec.writable_mask) + "\n";
    }
    return out;
}

}  // namespace cimvp::tlmx
