// A bus master's port for block transfers in LT style: one reused payload,
// bursts of at most max_burst bytes issued with a zero delay so the caller can
// see what each target annotated, each burst paced by the slower of the target
// and the master's own bandwidth. Used by the DMA and the post-processing unit.
#pragma once

#include <algorithm>
#include <cstdint>

#include <systemc>
#include <tlm>

namespace cimvp::tlmx {

class BurstPort {
public:
    BurstPort(tlm::tlm_initiator_socket<32>& socket, std::uint32_t max_burst, double bytes_per_ns)
        : socket_(socket), max_burst_(max_burst), bytes_per_ns_(bytes_per_ns) {}

    // One transaction with a zero delay; `took` is what the target annotated.
    tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint32_t len,
                                    sc_core::sc_time& took) {
        tlm::tlm_generic_payload& t = payload_;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(data);
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_byte_enable_ptr(nullptr);
        t.set_byte_enable_length(0);
        t.set_dmi_allowed(false);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        took = sc_core::SC_ZERO_TIME;
        socket_->b_transport(t, took);
        return t.get_response_status();
    }

    // A linear block in bursts; adds each burst's time to delay; false at the first non-OK response.
    bool block(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint64_t len,
               sc_core::sc_time& delay) {
        for (std::uint64_t off = 0; off < len; off += max_burst_) {
            const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_burst_, len - off));
            sc_core::sc_time took;
            const bool ok = access(cmd, addr + off, data + off, n, took) == tlm::TLM_OK_RESPONSE;
            delay += std::max(took, sc_core::sc_time(n / bytes_per_ns_, sc_core::SC_NS));
            if (!ok) return false;
        }
        return true;
    }

private:
    tlm::tlm_initiator_socket<32>& socket_;
    std::uint32_t max_burst_;
    double bytes_per_ns_;
    tlm::tlm_generic_payload payload_;
};

}  // namespace cimvp::tlmx
