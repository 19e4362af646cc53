// SystemC reports of what goes wrong in a model. A loosely-timed target
// answers a bad access with an error response and goes on; an initiator that
// does not check the status would never know. So every error response a model
// returns, and every engine job or command list that ends in ERROR, is also
// reported with SC_REPORT_WARNING under the module's own message type
// ("/cimvp/<module>", each module's kReportId): the default handler prints it,
// a test counts it (sc_report_handler::get_count) or changes its actions.
// A normal run returns no error response, so it reports nothing. The functions
// are out of line and marked cold: only error paths call them.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>

namespace cimvp::tlmx {

// Sets the response status and reports it as a warning:
//   "<who>: <RD|WR|IGN> 0x<address> len=<n>: <STATUS> (<why>)".
[[gnu::cold]] void reject(tlm::tlm_generic_payload& t, tlm::tlm_response_status status, const char* msg_type,
                          const char* who, const char* why);
// Reports the response status the payload already carries, as reject() words it.
[[gnu::cold]] void report_response(const tlm::tlm_generic_payload& t, const char* msg_type, const char* who,
                                   const char* why);
// An engine's job (or the controller's list) that ended in ERROR, as a warning:
//   "<who>: <job> ended in ERROR <code> (<code_name>)".
[[gnu::cold]] void report_job_error(const char* msg_type, const char* who, const std::string& job, std::uint32_t code,
                                    const char* code_name);
// "0x0000abcd": addresses in report texts.
std::string hex_address(std::uint64_t address);
// A warning "<who>: <what>".
[[gnu::cold]] void report_warning(const char* msg_type, const char* who, const std::string& what);
// An error "<who>: <what>": SystemC's default action for it throws, so the simulation stops.
[[gnu::cold]] void report_error(const char* msg_type, const char* who, const std::string& what);

}  // namespace cimvp::tlmx
