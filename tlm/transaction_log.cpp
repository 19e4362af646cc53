#include "tlm/transaction_log.h"

#include <cinttypes>
#include <cstdio>
#include <ostream>

namespace cimvp::tlmx {

void TransactionLog::record(const sc_core::sc_time& time, const std::string& initiator, const std::string& target,
                            const tlm::tlm_generic_payload& t) {
    if (!enabled_ || (!os_ && !keep_)) return;
    TransactionRecord r{time, initiator, target, t.get_command(), t.get_address(), t.get_data_length(),
                        t.get_response_status()};
    if (os_) *os_ << format(r) << '\n';
    if (keep_) records_.push_back(std::move(r));
}

std::string TransactionLog::format(const TransactionRecord& r) {
    char tail[96];
    std::snprintf(tail, sizeof tail, " %s 0x%08" PRIx64 " len=%u %s", command_name(r.command), r.address, r.length,
                  response_name(r.response));
    return "[TLM " + format_time(r.time) + "] " + r.initiator + " -> " + r.target + tail;
}

const char* TransactionLog::command_name(tlm::tlm_command c) {
    switch (c) {
        case tlm::TLM_READ_COMMAND: return "RD";
        case tlm::TLM_WRITE_COMMAND: return "WR";
        case tlm::TLM_IGNORE_COMMAND: return "IGN";
    }
    return "?";
}

const char* TransactionLog::response_name(tlm::tlm_response_status s) {
    switch (s) {
        case tlm::TLM_OK_RESPONSE: return "OK";
        case tlm::TLM_INCOMPLETE_RESPONSE: return "INCOMPLETE";
        case tlm::TLM_GENERIC_ERROR_RESPONSE: return "GENERIC_ERROR";
        case tlm::TLM_ADDRESS_ERROR_RESPONSE: return "ADDRESS_ERROR";
        case tlm::TLM_COMMAND_ERROR_RESPONSE: return "COMMAND_ERROR";
        case tlm::TLM_BURST_ERROR_RESPONSE: return "BURST_ERROR";
        case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: return "BYTE_ENABLE_ERROR";
    }
    return "?";
}

// Fixed microseconds with ns resolution: columns line up and logs from runs compare
// with diff. The record itself keeps the exact sc_time.
std::string TransactionLog::format_time(const sc_core::sc_time& t) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.3f us", t.to_seconds() * 1e6);
    return buf;
}

}  // namespace cimvp::tlmx
