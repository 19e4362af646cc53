#include "sw/driver/host_cpu.h"

namespace cimvp {

HostCpu::HostCpu(sc_core::sc_module_name name, Program program)
    : sc_module(name), bus_socket("bus_socket"), irq("irq"), program_(std::move(program)), bus_(bus_socket, "host") {
    bus_socket.register_invalidate_direct_mem_ptr(this, &HostCpu::invalidate_dmi);
    bus_.use_dmi(true);
    SC_HAS_PROCESS(HostCpu);
    SC_THREAD(thread);
}

bool HostCpu::wait_for_irq(const sc_core::sc_time& timeout) {
    const sc_core::sc_time called = now();
    bus_.sync();
    if (!irq.read()) {
        sc_core::wait(timeout, irq.posedge_event());
        bus_.keeper().reset();  // the wait moved time: restart the quantum from here
    }
    const bool raised = irq.read();
    if (observer_) observer_->on_irq_wait(called, timeout, now(), raised);
    return raised;
}

void HostCpu::thread() {
    try {
        program_(*this);
    } catch (...) {
        error_ = std::current_exception();
    }
    bus_.sync();
    sc_core::sc_stop();
}

void HostCpu::run() {
    sc_core::sc_start();
    if (error_) std::rethrow_exception(error_);
}

}  // namespace cimvp
