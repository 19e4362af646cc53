// A host CPU stand-in for SystemC tests of platform slices: an initiator whose
// thread runs the test body through a quantum-keeper bus, then stops the
// simulation. Tests that need the whole platform with the driver use
// platform_bench.h (the system top) instead.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/address_map.h"
#include "tlm/timed_initiator.h"

namespace cimvp::test {

class BusHost : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<BusHost> socket;
    sc_core::sc_in<bool> irq;
    tlmx::TimedInitiator bus;
    std::function<void(BusHost&)> body;
    bool finished = false;

    SC_HAS_PROCESS(BusHost);
    explicit BusHost(sc_core::sc_module_name n)
        : sc_core::sc_module(n), socket("socket"), irq("irq"), bus(socket, "host") {
        SC_THREAD(thread);
    }

    // Absolute local time of the host: simulated time plus what the keeper ran ahead.
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + bus.local_time(); }

    std::uint32_t rd32(std::uint64_t addr) {
        std::uint32_t v = 0xdeadbeef;
        EXPECT_EQ(bus.read32(addr, v), tlm::TLM_OK_RESPONSE) << "read at 0x" << std::hex << addr;
        return v;
    }
    void wr32(std::uint64_t addr, std::uint32_t v) {
        EXPECT_EQ(bus.write32(addr, v), tlm::TLM_OK_RESPONSE) << "write at 0x" << std::hex << addr;
    }
    std::uint32_t reg(std::uint32_t offset) { return rd32(kControllerBase + offset); }
    void set_reg(std::uint32_t offset, std::uint32_t v) { wr32(kControllerBase + offset, v); }

    // One b_transport outside the keeper, with a caller-given delay.
    tlm::tlm_response_status raw(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                                 sc_core::sc_time& delay, unsigned streaming_width = 0,
                                 unsigned char* byte_enables = nullptr) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(streaming_width ? streaming_width : len);
        t.set_byte_enable_ptr(byte_enables);
        t.set_byte_enable_length(byte_enables ? len : 0);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        socket->b_transport(t, delay);
        return t.get_response_status();
    }

    // Catches up with simulated time and waits for the IRQ line; true when it is high.
    bool wait_irq(const sc_core::sc_time& timeout = sc_core::sc_time(1000, sc_core::SC_US)) {
        bus.sync();
        if (!irq.read()) sc_core::wait(timeout, irq.posedge_event());
        bus.keeper().reset();  // the wait moved time on: a fresh sync point, or the next access syncs at once
        return irq.read();
    }
    // Catches up and lets the signals settle, so irq shows what the registers say.
    void settle() { pause(sc_core::sc_time(1, sc_core::SC_NS)); }
    // Catches up, then lets simulated time run on by `t`.
    void pause(const sc_core::sc_time& t) {
        bus.sync();
        sc_core::wait(t);
        bus.keeper().reset();
    }

    // Runs `b` in the host thread to its end.
    void simulate(std::function<void(BusHost&)> b) {
        body = std::move(b);
        sc_core::sc_start();
        EXPECT_TRUE(finished) << "the host thread did not run to its end";
    }

private:
    void thread() {
        if (body) body(*this);
        finished = true;
        sc_core::sc_stop();
    }
};

// Sets the global quantum before the modules that read it are built (a member declared first).
struct QuantumSetup {
    explicit QuantumSetup(const sc_core::sc_time& q) { tlmx::configure_global_quantum(q); }
};

}  // namespace cimvp::test
