// The checks every memory-like target window makes on a bus access, in one
// place: range, byte enables, streaming width. On failure the payload carries
// the matching TLM error response, reported as a warning under the owner's
// message type (tlm/error_report.h), and the caller returns.
#pragma once

#include <cstdint>

#include <tlm>

#include "tlm/error_report.h"

namespace cimvp::tlmx {

inline bool accept_window_access(tlm::tlm_generic_payload& t, std::uint64_t window_size, const char* msg_type,
                                 const char* who) {
    const std::uint64_t addr = t.get_address();
    const std::uint64_t len = t.get_data_length();
    if (addr > window_size || len > window_size - addr) {
        reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, msg_type, who, "outside the window");
        return false;
    }
    if (t.get_byte_enable_ptr() != nullptr) {
        reject(t, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, msg_type, who, "byte enables are not supported");
        return false;
    }
    if (t.get_streaming_width() < len) {
        reject(t, tlm::TLM_BURST_ERROR_RESPONSE, msg_type, who, "streaming is not supported");
        return false;
    }
    return true;
}

}  // namespace cimvp::tlmx
