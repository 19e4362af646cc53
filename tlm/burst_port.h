// A bus master's port for block transfers in IEEE 1666 loosely-timed style:
// one reused payload, bursts of at most max_burst bytes, each burst paced by
// the slower of the target and the master's own bandwidth. Used by the DMA,
// the post-processing unit and the SWIS PE array.
//
// Those engines run inside the register write that started them (a target's
// b_transport), so they have no thread and no quantum keeper of their own:
// their local time offset is the delay that write arrived with plus what the
// engine has spent since. Every burst is issued with that offset as its delay
// (so targets, waveforms and the transaction log see it when it happens) and
// the offset comes back advanced by what the target annotated. The engine
// only annotates, it never waits: the thread that made the register write
// syncs when its quantum keeper says so (the controller after each command).
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

    // One transaction issued at local time offset `at`; `took` is what the target annotated on top of it.
    tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint32_t len,
                                    const sc_core::sc_time& at, sc_core::sc_time& took) {
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
        sc_core::sc_time delay = at;
        socket_->b_transport(t, delay);
        took = delay - at;  // an LT target only adds to the delay
        return t.get_response_status();
    }

    // A linear block in bursts, each issued at `local` (the engine's local time offset), which
    // advances by each burst's time; false at the first non-OK response.
    bool block(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, std::uint64_t len,
               sc_core::sc_time& local) {
        for (std::uint64_t off = 0; off < len; off += max_burst_) {
            const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_burst_, len - off));
            sc_core::sc_time took;
            const bool ok = access(cmd, addr + off, data + off, n, local, took) == tlm::TLM_OK_RESPONSE;
            local += std::max(took, sc_core::sc_time(n / bytes_per_ns_, sc_core::SC_NS));
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
