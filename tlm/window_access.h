// The checks every memory-like target window makes on a bus access, in one
// place: range, byte enables, streaming width. On failure the payload carries
// the matching TLM error response and the caller returns.
#pragma once

#include <cstdint>

#include <tlm>

namespace cimvp::tlmx {

inline bool accept_window_access(tlm::tlm_generic_payload& t, std::uint64_t window_size) {
    const std::uint64_t addr = t.get_address();
    const std::uint64_t len = t.get_data_length();
    if (addr > window_size || len > window_size - addr) {
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (t.get_byte_enable_ptr() != nullptr) {
        t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (t.get_streaming_width() < len) {
        t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    return true;
}

}  // namespace cimvp::tlmx
