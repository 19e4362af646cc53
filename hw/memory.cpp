#include "hw/memory.h"

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "tlm/error_report.h"

namespace cimvp {

Memory::Memory(sc_core::sc_module_name name, const MemoryConfig& cfg)
    : sc_core::sc_module(name), socket("socket"), cfg_(cfg), latency_(cfg.latency_ns, sc_core::SC_NS) {
    if (cfg_.size_bytes == 0) throw std::invalid_argument(std::string(this->name()) + ": memory size is 0");
    if (!(cfg_.bytes_per_ns > 0))
        throw std::invalid_argument(std::string(this->name()) + ": bandwidth (bytes_per_ns) must be > 0");
    data_.reset(static_cast<std::uint8_t*>(std::calloc(cfg_.size_bytes, 1)));
    if (!data_) throw std::bad_alloc();
    socket.register_b_transport(this, &Memory::b_transport);
    socket.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);
    socket.register_transport_dbg(this, &Memory::transport_dbg);
}

void Memory::meter(EnergyMeter& m, EnergyMeter::Component component) const {
    m.add(component, counters_.bytes_read, cfg_.read_pj_per_byte);
    m.add(component, counters_.bytes_written, cfg_.write_pj_per_byte);
}

double Memory::energy_pj() const {
    EnergyMeter m;
    meter(m, &EnergyBreakdown::dram);
    return m.total_pj();
}

void Memory::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const std::uint64_t addr = t.get_address();
    const unsigned len = t.get_data_length();
    if (!in_bounds(addr, len))
        return tlmx::reject(t, tlm::TLM_ADDRESS_ERROR_RESPONSE, kReportId, name(), "out of range");
    if (t.get_byte_enable_ptr())
        return tlmx::reject(t, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, kReportId, name(),
                            "byte enables are not supported");
    if (t.get_streaming_width() < len)
        return tlmx::reject(t, tlm::TLM_BURST_ERROR_RESPONSE, kReportId, name(), "streaming is not supported");
    const tlm::tlm_command cmd = t.get_command();
    if (cmd == tlm::TLM_IGNORE_COMMAND) {
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    unsigned char* p = t.get_data_ptr();
    if (!p && len > 0) return tlmx::reject(t, tlm::TLM_GENERIC_ERROR_RESPONSE, kReportId, name(), "no data pointer");
    if (cmd == tlm::TLM_READ_COMMAND) {
        if (len) std::memcpy(p, data_.get() + addr, len);
        ++counters_.reads;
        counters_.bytes_read += len;
    } else {
        if (len) std::memcpy(data_.get() + addr, p, len);
        ++counters_.writes;
        counters_.bytes_written += len;
    }
    delay += latency_ + sc_core::sc_time(len / cfg_.bytes_per_ns, sc_core::SC_NS);
    t.set_dmi_allowed(cfg_.dmi);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
    // The whole array either way: granted, or denied for every address.
    dmi.set_start_address(0);
    dmi.set_end_address(size() - 1);
    if (!cfg_.dmi) {
        dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
        dmi.set_dmi_ptr(nullptr);
        return false;
    }
    dmi.set_dmi_ptr(data_.get());
    dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
    dmi.set_read_latency(latency_);
    dmi.set_write_latency(latency_);
    return true;
}

unsigned Memory::transport_dbg(tlm::tlm_generic_payload& t) {
    const std::uint64_t addr = t.get_address();
    const tlm::tlm_command cmd = t.get_command();
    unsigned char* p = t.get_data_ptr();
    if (addr >= size() || !p || cmd == tlm::TLM_IGNORE_COMMAND) return 0;
    const std::uint64_t room = size() - addr;
    const unsigned len = room < t.get_data_length() ? static_cast<unsigned>(room) : t.get_data_length();
    if (cmd == tlm::TLM_READ_COMMAND)
        std::memcpy(p, data_.get() + addr, len);
    else
        std::memcpy(data_.get() + addr, p, len);
    return len;
}

}  // namespace cimvp
