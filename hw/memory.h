// A byte-addressed memory with a fixed access latency and a bandwidth: the
// platform's DRAM and its SRAM buffers. Loosely timed: b_transport only
// annotates delay (latency + bytes / bandwidth), DMI hands out the whole array.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "hw/arch_config.h"
#include "hw/energy_report.h"

namespace cimvp {

class Memory : public sc_core::sc_module {
public:
    // Message type of the memory's SystemC reports (tlm/error_report.h).
    static constexpr const char* kReportId = "/cimvp/memory";

    struct Counters {
        std::uint64_t reads = 0, writes = 0, bytes_read = 0, bytes_written = 0;
    };

    tlm_utils::simple_target_socket<Memory> socket;

    // Throws std::invalid_argument on size 0 or a bandwidth <= 0, std::bad_alloc when
    // the storage cannot be reserved.
    Memory(sc_core::sc_module_name name, const MemoryConfig& cfg);
    Memory(const Memory&) = delete;
    Memory& operator=(const Memory&) = delete;

    // Host-side access (loader, tests): no timing, no counting.
    std::uint8_t* data() { return data_.get(); }
    const std::uint8_t* data() const { return data_.get(); }
    std::uint64_t size() const { return cfg_.size_bytes; }
    const MemoryConfig& config() const { return cfg_; }

    // Bus accesses only: DMI and debug accesses are not seen by the memory.
    const Counters& counters() const { return counters_; }
    void reset_counters() { counters_ = {}; }
    // Bytes read and written, as energy of `component` (dram, or buffers for an on-chip SRAM).
    void meter(EnergyMeter& m, EnergyMeter::Component component) const;
    double energy_pj() const;

private:
    struct FreeDeleter {
        void operator()(std::uint8_t* p) const { std::free(p); }
    };

    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool in_bounds(std::uint64_t addr, std::uint64_t len) const { return addr <= size() && len <= size() - addr; }

    const MemoryConfig cfg_;
    // calloc: the OS hands out zero pages lazily, so a 256 MiB DRAM costs only what is touched.
    std::unique_ptr<std::uint8_t, FreeDeleter> data_;
    const sc_core::sc_time latency_;
    Counters counters_;
};

}  // namespace cimvp
