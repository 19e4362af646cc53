#include "tlm/timed_initiator.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace cimvp::tlmx {

void configure_global_quantum(const sc_core::sc_time& quantum) {
    tlm_utils::tlm_quantumkeeper::set_global_quantum(quantum);
}

TimedInitiator::TimedInitiator(tlm::tlm_initiator_socket<32>& socket, std::string name)
    : socket_(socket), name_(std::move(name)) {
    qk_.reset();
}

tlm::tlm_response_status TimedInitiator::transport(tlm::tlm_generic_payload& t) {
    sc_core::sc_time delay = qk_.get_local_time();
    socket_->b_transport(t, delay);
    qk_.set(delay);
    if (qk_.need_sync()) qk_.sync();
    return t.get_response_status();
}

tlm::tlm_response_status TimedInitiator::read(std::uint64_t addr, void* dst, std::size_t len) {
    return access(tlm::TLM_READ_COMMAND, addr, static_cast<unsigned char*>(dst), len);
}

tlm::tlm_response_status TimedInitiator::write(std::uint64_t addr, const void* src, std::size_t len) {
    // The payload's data pointer is non-const, but a write target only reads through it.
    return access(tlm::TLM_WRITE_COMMAND, addr, static_cast<unsigned char*>(const_cast<void*>(src)), len);
}

tlm::tlm_response_status TimedInitiator::read32(std::uint64_t addr, std::uint32_t& value) {
    unsigned char b[4];
    const tlm::tlm_response_status s = read(addr, b, 4);
    if (s == tlm::TLM_OK_RESPONSE)
        value = std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[3]} << 24;
    return s;
}

tlm::tlm_response_status TimedInitiator::write32(std::uint64_t addr, std::uint32_t value) {
    const unsigned char b[4] = {static_cast<unsigned char>(value), static_cast<unsigned char>(value >> 8),
                                static_cast<unsigned char>(value >> 16), static_cast<unsigned char>(value >> 24)};
    return write(addr, b, 4);
}

tlm::tlm_response_status TimedInitiator::access(tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data,
                                                std::size_t len) {
    if (!observer_) return access_unobserved(cmd, addr, data, len);
    const sc_core::sc_time issued = sc_core::sc_time_stamp() + qk_.get_local_time();
    const tlm::tlm_response_status s = access_unobserved(cmd, addr, data, len);
    observer_->on_access(issued, cmd, addr, data, len, s);
    return s;
}

tlm::tlm_response_status TimedInitiator::access_unobserved(tlm::tlm_command cmd, std::uint64_t addr,
                                                           unsigned char* data, std::size_t len) {
    if (len > std::numeric_limits<unsigned>::max()) return tlm::TLM_GENERIC_ERROR_RESPONSE;
    if (dmi_on_ && len > 0) {
        if (const tlm::tlm_dmi* d = find_dmi(cmd, addr, len)) {
            unsigned char* mem = d->get_dmi_ptr() + (addr - d->get_start_address());
            if (cmd == tlm::TLM_READ_COMMAND) {
                std::memcpy(data, mem, len);
                qk_.inc(d->get_read_latency());
            } else {
                std::memcpy(mem, data, len);
                qk_.inc(d->get_write_latency());
            }
            if (qk_.need_sync()) qk_.sync();
            return tlm::TLM_OK_RESPONSE;
        }
    }
    tlm::tlm_generic_payload& t = payload_;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(static_cast<unsigned>(len));
    t.set_streaming_width(static_cast<unsigned>(len));
    t.set_byte_enable_ptr(nullptr);
    t.set_byte_enable_length(0);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const tlm::tlm_response_status s = transport(t);
    if (dmi_on_ && s == tlm::TLM_OK_RESPONSE && t.is_dmi_allowed()) request_dmi(cmd, addr);
    return s;
}

const tlm::tlm_dmi* TimedInitiator::find_dmi(tlm::tlm_command cmd, std::uint64_t addr, std::size_t len) const {
    const std::uint64_t last = addr + (len - 1);
    if (last < addr) return nullptr;  // wraps
    for (const tlm::tlm_dmi& d : dmi_) {
        const bool allowed = cmd == tlm::TLM_READ_COMMAND ? d.is_read_allowed() : d.is_write_allowed();
        if (allowed && addr >= d.get_start_address() && last <= d.get_end_address()) return &d;
    }
    return nullptr;
}

void TimedInitiator::request_dmi(tlm::tlm_command cmd, std::uint64_t addr) {
    tlm::tlm_generic_payload& t = payload_;
    t.set_command(cmd);
    t.set_address(addr);
    tlm::tlm_dmi d;
    if (!socket_->get_direct_mem_ptr(t, d) || !d.get_dmi_ptr()) return;
    // A new grant replaces what it overlaps (it may widen a region or change permissions).
    invalidate(d.get_start_address(), d.get_end_address());
    dmi_.push_back(d);
}

void TimedInitiator::use_dmi(bool on) {
    dmi_on_ = on;
    if (!on) dmi_.clear();
}

void TimedInitiator::invalidate(std::uint64_t start, std::uint64_t end) {
    dmi_.erase(std::remove_if(dmi_.begin(), dmi_.end(),
                              [&](const tlm::tlm_dmi& d) {
                                  return d.get_start_address() <= end && start <= d.get_end_address();
                              }),
               dmi_.end());
}

}  // namespace cimvp::tlmx
