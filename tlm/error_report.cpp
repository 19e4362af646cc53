#include "tlm/error_report.h"

#include <cinttypes>
#include <cstdio>

#include "tlm/transaction_log.h"

namespace cimvp::tlmx {

namespace {

std::string describe(const tlm::tlm_generic_payload& t, const char* who, const char* why) {
    return std::string(who) + ": " + TransactionLog::command_name(t.get_command()) + " " +
           hex_address(t.get_address()) + " len=" + std::to_string(t.get_data_length()) + ": " +
           TransactionLog::response_name(t.get_response_status()) + " (" + why + ")";
}

}  // namespace

void reject(tlm::tlm_generic_payload& t, tlm::tlm_response_status status, const char* msg_type, const char* who,
            const char* why) {
    t.set_response_status(status);
    report_response(t, msg_type, who, why);
}

void report_response(const tlm::tlm_generic_payload& t, const char* msg_type, const char* who, const char* why) {
    SC_REPORT_WARNING(msg_type, describe(t, who, why).c_str());
}

void report_job_error(const char* msg_type, const char* who, const std::string& job, std::uint32_t code,
                      const char* code_name) {
    report_warning(msg_type, who, job + " ended in ERROR " + std::to_string(code) + " (" + code_name + ")");
}

std::string hex_address(std::uint64_t address) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%08" PRIx64, address);
    return buf;
}

void report_warning(const char* msg_type, const char* who, const std::string& what) {
    SC_REPORT_WARNING(msg_type, (std::string(who) + ": " + what).c_str());
}

void report_error(const char* msg_type, const char* who, const std::string& what) {
    SC_REPORT_ERROR(msg_type, (std::string(who) + ": " + what).c_str());
}

}  // namespace cimvp::tlmx
