// TransactionLog on its own: the line format, the short names, and when it
// writes or keeps anything. The Router's use of it is in test_tlm_router.cpp.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <systemc>
#include <tlm>

#include "testbench/sc_test_support.h"
#include "tlm/transaction_log.h"

namespace {

using cimvp::tlmx::TransactionLog;
using cimvp::tlmx::TransactionRecord;
using sc_core::SC_NS;
using sc_core::sc_time;

// What the Router does after a transaction completed.
void record(TransactionLog& log, const sc_time& time, const std::string& initiator, const std::string& target,
            tlm::tlm_command cmd, std::uint64_t addr, unsigned len, tlm::tlm_response_status s) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_length(len);
    t.set_response_status(s);
    log.record(time, initiator, target, t);
}

TEST(TransactionLog, FormatsTimeNamesCommandAddressLengthAndResponse) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    TransactionRecord r{sc_time(1230, SC_NS), "host", "dram", tlm::TLM_WRITE_COMMAND, 0x1000, 64,
                        tlm::TLM_OK_RESPONSE};
    EXPECT_EQ(TransactionLog::format(r), "[TLM 1.230 us] host -> dram WR 0x00001000 len=64 OK");
    r.address = 0x123456789abull;  // wider than 32 bits: printed in full
    r.command = tlm::TLM_IGNORE_COMMAND;
    r.time = sc_time(2, sc_core::SC_MS);
    EXPECT_EQ(TransactionLog::format(r), "[TLM 2000.000 us] host -> dram IGN 0x123456789ab len=64 OK");
}

TEST(TransactionLog, UsesShortResponseAndCommandNames) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_OK_RESPONSE), "OK");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_INCOMPLETE_RESPONSE), "INCOMPLETE");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_GENERIC_ERROR_RESPONSE), "GENERIC_ERROR");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_ADDRESS_ERROR_RESPONSE), "ADDRESS_ERROR");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_COMMAND_ERROR_RESPONSE), "COMMAND_ERROR");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_BURST_ERROR_RESPONSE), "BURST_ERROR");
    EXPECT_STREQ(TransactionLog::response_name(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE), "BYTE_ENABLE_ERROR");
    EXPECT_STREQ(TransactionLog::command_name(tlm::TLM_READ_COMMAND), "RD");
    EXPECT_STREQ(TransactionLog::command_name(tlm::TLM_WRITE_COMMAND), "WR");
    EXPECT_STREQ(TransactionLog::command_name(tlm::TLM_IGNORE_COMMAND), "IGN");
}

TEST(TransactionLog, DisabledLogWritesAndKeepsNothing) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    TransactionLog log;
    std::ostringstream os;
    log.set_stream(&os);
    log.keep_records(true);
    EXPECT_FALSE(log.enabled());
    record(log, sc_time(1, SC_NS), "a", "b", tlm::TLM_READ_COMMAND, 0, 4, tlm::TLM_OK_RESPONSE);
    EXPECT_TRUE(log.records().empty());
    EXPECT_TRUE(os.str().empty());
}

TEST(TransactionLog, KeepsRecordsOnlyWhenAskedAndWritesOnlyWithAStream) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    TransactionLog log;
    log.enable(true);
    record(log, sc_time(1, SC_NS), "a", "b", tlm::TLM_READ_COMMAND, 0, 4, tlm::TLM_OK_RESPONSE);  // nowhere to go
    std::ostringstream os;
    log.set_stream(&os);
    record(log, sc_time(1, SC_NS), "a", "b", tlm::TLM_READ_COMMAND, 0x20, 4, tlm::TLM_OK_RESPONSE);
    EXPECT_TRUE(log.records().empty());
    EXPECT_EQ(os.str(), "[TLM 0.001 us] a -> b RD 0x00000020 len=4 OK\n");

    log.set_stream(nullptr);
    log.keep_records(true);
    record(log, sc_time(3, SC_NS), "cpu", "npu", tlm::TLM_WRITE_COMMAND, 0x40, 8, tlm::TLM_BURST_ERROR_RESPONSE);
    ASSERT_EQ(log.records().size(), 1u);
    const TransactionRecord& r = log.records()[0];
    EXPECT_EQ(r.time, sc_time(3, SC_NS));
    EXPECT_EQ(r.initiator, "cpu");
    EXPECT_EQ(r.target, "npu");
    EXPECT_EQ(r.command, tlm::TLM_WRITE_COMMAND);
    EXPECT_EQ(r.address, 0x40u);
    EXPECT_EQ(r.length, 8u);
    EXPECT_EQ(r.response, tlm::TLM_BURST_ERROR_RESPONSE);
    log.clear();
    EXPECT_TRUE(log.records().empty());
}

}  // namespace
