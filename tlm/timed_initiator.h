// The loosely-timed, temporally decoupled initiator every bus master of the
// platform uses (Accellera's lt_td pattern): transactions run ahead of
// simulated time by up to the global quantum, and the thread yields only when
// the quantum is used up. Optionally short-cuts memory accesses through DMI.
// Must be used from an SC_THREAD (sync() waits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/tlm_quantumkeeper.h>

namespace cimvp::tlmx {

// Set once before the initiators are constructed: their keepers take their
// first sync point from it.
void configure_global_quantum(const sc_core::sc_time& quantum);

// Sees every read and write a TimedInitiator completes through read()/write()
// (the host's command-stream recorder is one). Not called when none is set.
class AccessObserver {
public:
    virtual ~AccessObserver() = default;
    // issued: simulated time when the access was made (global time + local offset);
    // data: the bytes written, or the bytes a read returned.
    virtual void on_access(const sc_core::sc_time& issued, tlm::tlm_command cmd, std::uint64_t addr,
                           const unsigned char* data, std::size_t len, tlm::tlm_response_status response) = 0;
};

class TimedInitiator {
public:
    // socket: the owning module's initiator socket (simple_initiator_socket<M> is one).
    TimedInitiator(tlm::tlm_initiator_socket<32>& socket, std::string name);
    TimedInitiator(const TimedInitiator&) = delete;
    TimedInitiator& operator=(const TimedInitiator&) = delete;

    // b_transport with the keeper's local time as delay, then syncs if the quantum is used up.
    // Returns the target's response status; error responses never throw.
    tlm::tlm_response_status transport(tlm::tlm_generic_payload& t);

    // Through the cached DMI region when enabled and one covers the range, else b_transport
    // with the initiator's own payload. len must fit in 32 bits (else GENERIC_ERROR).
    tlm::tlm_response_status read(std::uint64_t addr, void* dst, std::size_t len);
    tlm::tlm_response_status write(std::uint64_t addr, const void* src, std::size_t len);
    tlm::tlm_response_status read32(std::uint64_t addr, std::uint32_t& value);
    tlm::tlm_response_status write32(std::uint64_t addr, std::uint32_t value);

    // DMI is requested after a successful b_transport whose target set the DMI-allowed hint.
    void use_dmi(bool on);
    bool dmi_enabled() const { return dmi_on_; }
    // Drops the cached DMI regions overlapping [start, end]; call from the socket's
    // invalidate_direct_mem_ptr callback.
    void invalidate(std::uint64_t start, std::uint64_t end);
    std::size_t dmi_regions() const { return dmi_.size(); }

    // nullptr (the default) observes nothing; the observer must outlive the initiator's use.
    void set_observer(AccessObserver* o) { observer_ = o; }

    sc_core::sc_time local_time() const { return qk_.get_local_time(); }
    void sync() { qk_.sync(); }
    void add_delay(const sc_core::sc_time& d) { qk_.inc(d); }
    tlm_utils::tlm_quantumkeeper& keeper() { return qk_; }
    const std::string& name() const { return name_; }

private:
    tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data, std::size_t len);
    tlm::tlm_response_status access_unobserved(tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data,
                                               std::size_t len);
    // The cached region covering [addr, addr + len) with the needed permission, or nullptr.
    const tlm::tlm_dmi* find_dmi(tlm::tlm_command cmd, std::uint64_t addr, std::size_t len) const;
    void request_dmi(tlm::tlm_command cmd, std::uint64_t addr);

    tlm::tlm_initiator_socket<32>& socket_;
    std::string name_;
    tlm_utils::tlm_quantumkeeper qk_;
    tlm::tlm_generic_payload payload_;  // reused: no allocation per access
    bool dmi_on_ = false;
    AccessObserver* observer_ = nullptr;
    std::vector<tlm::tlm_dmi> dmi_;  // few regions (memories), searched linearly
};

}  // namespace cimvp::tlmx
