// Address-decoding interconnect of the platform: initiators attach to
// target_socket, targets are mapped to address ranges on initiator_socket.
// Targets see region-local offsets; DMI ranges and invalidations are translated
// back to global addresses, so initiators only ever deal with the global map.
// Loosely timed only: b_transport, DMI and debug transport (no nb_transport).
// Built with protocol checks, it puts a tlmx::ProtocolChecker on every link it
// binds (tlm/protocol_checker.h, docs/protocol-checks.md); without, nothing
// stands between it and the sockets it binds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "tlm/protocol_checker.h"
#include "tlm/transaction_log.h"

namespace cimvp::tlmx {

class Router : public sc_core::sc_module {
public:
    // Message type of the router's SystemC reports (tlm/error_report.h): accesses no region takes.
    static constexpr const char* kReportId = "/cimvp/router";

    struct Region {
        std::string name;
        std::uint64_t base = 0;
        std::uint64_t size = 0;
        unsigned port = 0;  // index on initiator_socket
        std::uint64_t last() const { return base + (size - 1); }
    };

    tlm_utils::multi_passthrough_target_socket<Router> target_socket;        // initiators bind here
    tlm_utils::multi_passthrough_initiator_socket<Router> initiator_socket;  // targets bind here

    // check_protocol: a ProtocolChecker on each link that map() and attach() bind.
    explicit Router(sc_core::sc_module_name name, bool check_protocol = false);
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Binds initiator_socket to `target` and maps [base, base + size) to it; the
    // target sees offsets from base. Throws std::invalid_argument (naming both
    // regions) on overlap, on size 0 or when the range wraps past 2^64. One region per target.
    void map(const std::string& target_name, std::uint64_t base, std::uint64_t size,
             tlm::tlm_target_socket<32>& target);
    // Binds `initiator` to target_socket; the name is what the log shows for it.
    void attach(const std::string& initiator_name, tlm::tlm_initiator_socket<32>& initiator);

    // Sorted by base.
    const std::vector<Region>& regions() const { return regions_; }
    // The region containing addr, or nullptr.
    const Region* find(std::uint64_t addr) const;
    // The address map as text, one region per line in address order.
    std::string describe() const;

    // nullptr switches tracing off; the log must outlive the router.
    void set_log(TransactionLog* log);

    bool checks_protocol() const { return answers_ != nullptr; }
    // The checkers of the links in bind order (none without protocol checks).
    const std::vector<std::unique_ptr<ProtocolChecker>>& protocol_checkers() const { return checkers_; }
    // What they counted, summed over the links: a transaction from an initiator to a target is
    // one of `transactions` and two `transports` (the initiator's link and the target's).
    ProtocolCounts protocol_counts() const;

private:
    void end_of_elaboration() override;

    void b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(int id, tlm::tlm_generic_payload& t);
    void invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end);

    const std::string& initiator_name(int id) const;
    // Denied DMI for an unmapped address: the gap between the neighbouring regions.
    void deny_gap(std::uint64_t addr, tlm::tlm_dmi& dmi) const;
    // A checker for the link named "<from> -> <to>", kept by the router.
    ProtocolChecker& add_checker(const std::string& from, const std::string& to, ProtocolChecker::Downstream d);

    std::vector<Region> regions_;               // sorted by base, for the binary search
    std::vector<Region> by_port_;               // the same regions indexed by initiator_socket port
    std::vector<std::string> initiator_names_;  // target_socket port -> name

    TransactionLog* log_ = nullptr;
    const bool* log_on_;  // &log_->enabled_ or a constant false: one branch per transaction

    std::unique_ptr<TargetAnswers> answers_;  // null without protocol checks
    std::vector<std::unique_ptr<ProtocolChecker>> checkers_;
};

}  // namespace cimvp::tlmx
