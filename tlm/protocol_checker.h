// TLM-2.0 base-protocol checks on one link of an interconnect, written from
// the rules of IEEE Std 1666-2011 (clause 11: b_transport, DMI, debug
// transport; clause 14: the generic payload). A ProtocolChecker is a
// pass-through component: its target_socket takes what the upstream side
// sends, its initiator_socket passes it on unchanged, and it checks every call
// on the way in and on the way back. The Router puts one on each of its links
// when it is built with protocol checks (platform.check_protocol,
// docs/protocol-checks.md): between each initiator and the router (the
// component downstream is an interconnect) and between the router and each
// target (downstream is a target). Both kinds share a TargetAnswers, so the
// initiator's side can tell what the target itself answered.
//
// A broken rule is an SC_REPORT_ERROR under kReportId naming the rule, its
// clause, the link and the transaction; SystemC's default action for an error
// throws, so the run stops at the first one. A checker whose reports do not
// throw (a test that changed the actions) counts every violation and goes on.
// The checks cost a copy of each write's data and each read's answer: they are
// for test configurations, and a router without them has no checker on its path.
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <vector>

namespace cimvp::tlmx {

// What the checkers saw: calls of each kind, and the rules broken in them.
struct ProtocolCounts {
    std::uint64_t links = 0;       // links checked (1 for one checker)
    std::uint64_t transports = 0;  // b_transport calls
    std::uint64_t transactions =
        0;  // of them, the ones on a link into an interconnect: one per initiator's transaction
    std::uint64_t dmi_requests = 0;      // get_direct_mem_ptr calls
    std::uint64_t debug_transports = 0;  // transport_dbg calls
    std::uint64_t invalidations = 0;     // invalidate_direct_mem_ptr calls
    std::uint64_t violations = 0;        // broken rules, each one reported

    ProtocolCounts& operator+=(const ProtocolCounts& o);
    // Another simulation's checks of the same links (another process's share of a run, docs/scale.md):
    // its calls and violations added, its links the same ones (the most either counted).
    ProtocolCounts& add_share(const ProtocolCounts& o);
    std::uint64_t calls() const { return transports + dmi_requests + debug_transports + invalidations; }
};

// What the targets behind one interconnect answered to b_transport, per payload object: the
// response status and, for a read, the data. The checker on an initiator's link compares the
// payload it gets back with it (14.7: an interconnect modifies neither on the way back).
class TargetAnswers {
public:
    struct Answer {
        bool valid = false;  // a target answered since the initiator's link forwarded the payload
        tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
        std::vector<unsigned char> read_data;  // the data array as the target returned it (reads)
    };
    // The initiator's link forwards the payload: no target has answered it yet.
    void forget(const tlm::tlm_generic_payload& t);
    // A target's link saw the payload come back.
    void record(const tlm::tlm_generic_payload& t);
    // The answer since the last forget(), or nullptr.
    const Answer* find(const tlm::tlm_generic_payload& t) const;

private:
    // Payload objects are few and reused (each initiator has one), so entries are kept.
    std::unordered_map<const tlm::tlm_generic_payload*, Answer> answers_;
};

class ProtocolChecker : public sc_core::sc_module,
                        private tlm::tlm_fw_transport_if<>,
                        private tlm::tlm_bw_transport_if<> {
public:
    // Message type of the violations (tlm/error_report.h).
    static constexpr const char* kReportId = "/cimvp/protocol";

    // What the link's initiator_socket is bound to. An interconnect may translate the address
    // of a transaction and answers it for no target; a target may do neither (14.7).
    enum class Downstream { kInterconnect, kTarget };

    tlm::tlm_target_socket<32> target_socket;        // the upstream side binds here
    tlm::tlm_initiator_socket<32> initiator_socket;  // bound to the downstream side

    // link: "host -> router", what the reports name; answers: shared by the checkers of one interconnect.
    ProtocolChecker(sc_core::sc_module_name name, std::string link, Downstream downstream, TargetAnswers& answers);
    ProtocolChecker(const ProtocolChecker&) = delete;
    ProtocolChecker& operator=(const ProtocolChecker&) = delete;

    const std::string& link() const { return link_; }
    Downstream downstream() const { return downstream_; }
    const ProtocolCounts& counts() const { return counts_; }

private:
    // The attributes an initiator sets and only the initiator may change, as they were at the call.
    struct Request {
        tlm::tlm_command command;
        std::uint64_t address;
        unsigned char* data;
        unsigned length;
        unsigned char* byte_enables;
        unsigned byte_enable_length;
        unsigned streaming_width;
        tlm::tlm_gp_option option;
        sc_core::sc_time delay;
        std::uint64_t extensions;  // bit i: extension i is set (the first 64 extension types)
    };
    // Copies of a write's data and of the byte enables, one per nesting level of this link.
    struct Saved {
        std::vector<unsigned char> data, byte_enables;
    };

    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) override;
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) override;
    unsigned transport_dbg(tlm::tlm_generic_payload& t) override;
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay) override;
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) override;

    // b_transport's rules, before the call and on its return.
    void check_request(const tlm::tlm_generic_payload& t);
    void check_return(const tlm::tlm_generic_payload& t, const Request& r, const Saved& s,
                      const sc_core::sc_time& delay);
    void check_interconnect_answer(const tlm::tlm_generic_payload& t);
    // DMI's rules: the descriptor the initiator passes, and the answer.
    void check_dmi_descriptor(const tlm::tlm_generic_payload& t, const tlm::tlm_dmi& dmi);
    void check_dmi_answer(const tlm::tlm_generic_payload& t, std::uint64_t address, bool granted,
                          const tlm::tlm_dmi& dmi);
    // The command is one of the three (14.10); `call` names the interface in the report.
    void check_command(const tlm::tlm_generic_payload& t, const char* call);

    // Counts the violation and reports it: "<rule> [IEEE 1666-2011 <clause>] on <link>: <call> <transaction>".
    void violation(const char* clause, const std::string& rule, const char* call, const tlm::tlm_generic_payload* t);

    std::string link_;
    Downstream downstream_;
    TargetAnswers& answers_;
    ProtocolCounts counts_;
    std::vector<const tlm::tlm_generic_payload*> in_flight_;  // b_transport calls under way on this link
    std::vector<Saved> saved_;                                // indexed by nesting level
};

}  // namespace cimvp::tlmx
