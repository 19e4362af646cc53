// Run-time switchable trace of TLM transactions, one line per transaction:
//   [TLM 1.230 us] host -> dram WR 0x00001000 len=64 OK
// The Router feeds it; tests can keep the records in memory and check them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

namespace cimvp::tlmx {

struct TransactionRecord {
    sc_core::sc_time time;  // sc_time_stamp() + annotated delay when the call was made
    std::string initiator;
    std::string target;
    tlm::tlm_command command = tlm::TLM_IGNORE_COMMAND;
    std::uint64_t address = 0;
    unsigned length = 0;
    tlm::tlm_response_status response = tlm::TLM_INCOMPLETE_RESPONSE;
};

class TransactionLog {
public:
    // Off by default: tracing every bus access is for debugging, not for runs.
    void enable(bool on) { enabled_ = on; }
    bool enabled() const { return enabled_; }
    // Address of the on/off flag, so a hot path can test it with a single load and branch.
    const bool* enabled_flag() const { return &enabled_; }

    // nullptr writes nothing; the stream must outlive the log.
    void set_stream(std::ostream* os) { os_ = os; }
    void keep_records(bool keep) { keep_ = keep; }
    const std::vector<TransactionRecord>& records() const { return records_; }
    void clear() { records_.clear(); }

    // Call after the transaction completed, with the final response in t. Does
    // nothing when disabled.
    void record(const sc_core::sc_time& time, const std::string& initiator, const std::string& target,
                const tlm::tlm_generic_payload& t);

    // The line for one record, without newline.
    static std::string format(const TransactionRecord& r);
    static const char* command_name(tlm::tlm_command c);            // RD, WR, IGN
    static const char* response_name(tlm::tlm_response_status s);   // OK, ADDRESS_ERROR, ...
    static std::string format_time(const sc_core::sc_time& t);     // "1.230 us"

private:
    bool enabled_ = false;
    bool keep_ = false;
    std::ostream* os_ = nullptr;
    std::vector<TransactionRecord> records_;
};

}  // namespace cimvp::tlmx
