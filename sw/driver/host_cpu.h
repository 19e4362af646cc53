// The host CPU: an SC_THREAD that runs the driver program as a bus master with
// an interrupt input. An exception thrown by the program ends the simulation
// and is rethrown to whoever called run().
#pragma once

#include <exception>
#include <functional>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "tlm/timed_initiator.h"

namespace cimvp {

// Sees what the host does to the platform: every bus access (AccessObserver)
// and every interrupt wait.
class HostObserver : public tlmx::AccessObserver {
public:
    // called: when wait_for_irq was called; returned: when it returned; raised: its result.
    virtual void on_irq_wait(const sc_core::sc_time& called, const sc_core::sc_time& timeout,
                             const sc_core::sc_time& returned, bool raised) = 0;
};

class HostCpu : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<HostCpu> bus_socket;
    sc_core::sc_in<bool> irq;

    using Program = std::function<void(HostCpu&)>;

    HostCpu(sc_core::sc_module_name name, Program program);
    HostCpu(const HostCpu&) = delete;
    HostCpu& operator=(const HostCpu&) = delete;

    tlmx::TimedInitiator& bus() { return bus_; }
    // Synchronizes with SystemC time, then waits until the interrupt line is
    // high. Returns false if it is still low after `timeout`.
    bool wait_for_irq(const sc_core::sc_time& timeout);
    // Simulated time as the host sees it (global time plus its local offset).
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + bus_.local_time(); }

    // nullptr (the default) observes nothing; the observer must outlive run().
    void set_observer(HostObserver* o) {
        observer_ = o;
        bus_.set_observer(o);
    }

    // Runs the simulation until the program returns; rethrows its exception.
    void run();

private:
    void thread();
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) { bus_.invalidate(start, end); }

    Program program_;
    tlmx::TimedInitiator bus_;
    std::exception_ptr error_;
    HostObserver* observer_ = nullptr;
};

}  // namespace cimvp
