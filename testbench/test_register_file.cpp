// RegisterFile: the checks every MMIO access goes through, the register
// semantics (reset, reserved bits, hooks) and one device behind the router.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "testbench/sc_test_support.h"
#include "tlm/register_file.h"
#include "tlm/router.h"
#include "tlm/timed_initiator.h"

namespace {

using cimvp::tlmx::Access;
using cimvp::tlmx::RegisterFile;
using cimvp::tlmx::RegisterSpec;
using sc_core::SC_NS;
using sc_core::sc_time;

constexpr std::uint32_t kCtrl = 0x00;    // RW, bits 0..3 implemented, reset 0x5
constexpr std::uint32_t kStatus = 0x04;  // RO, reset 0x80000001
constexpr std::uint32_t kDoorbell = 0x08;  // WO
// 0x0c is reserved
constexpr std::uint32_t kScratch = 0x10;  // RW, all bits

// A bus access straight into the register file, as a target's b_transport would make it.
struct BusAccess {
    tlm::tlm_generic_payload t;
    unsigned char buf[8] = {};
    sc_time delay = sc_core::SC_ZERO_TIME;

    tlm::tlm_response_status operator()(RegisterFile& rf, tlm::tlm_command cmd, std::uint64_t addr,
                                        unsigned len = 4) {
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(buf);
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_byte_enable_ptr(nullptr);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        rf.transport(t, delay);
        return t.get_response_status();
    }
    tlm::tlm_response_status read(RegisterFile& rf, std::uint64_t addr, std::uint32_t& v) {
        const auto s = (*this)(rf, tlm::TLM_READ_COMMAND, addr);
        v = std::uint32_t{buf[0]} | std::uint32_t{buf[1]} << 8 | std::uint32_t{buf[2]} << 16 |
            std::uint32_t{buf[3]} << 24;
        return s;
    }
    tlm::tlm_response_status write(RegisterFile& rf, std::uint64_t addr, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) buf[i] = static_cast<unsigned char>(v >> (8 * i));
        return (*this)(rf, tlm::TLM_WRITE_COMMAND, addr);
    }
};

void add_test_registers(RegisterFile& rf, std::function<void(std::uint32_t)> on_ctrl_write = {}) {
    rf.add({"CTRL", kCtrl, Access::kReadWrite, 0x5, 0xf}, {}, std::move(on_ctrl_write));
    rf.add({"STATUS", kStatus, Access::kReadOnly, 0x80000001});
    rf.add({"DOORBELL", kDoorbell, Access::kWriteOnly});
    rf.add({"SCRATCH", kScratch, Access::kReadWrite, 0xdeadbeef});
}

TEST(RegisterFile, RegistersStartAtTheirResetValues) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.read(rf, kCtrl, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0x5u);
    EXPECT_EQ(bus.read(rf, kStatus, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0x80000001u);
    EXPECT_EQ(bus.read(rf, kScratch, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0xdeadbeefu);
    EXPECT_EQ(bus.write(rf, kScratch, 1), tlm::TLM_OK_RESPONSE);
    rf.reset();
    EXPECT_EQ(rf.get(kScratch), 0xdeadbeefu);
}

TEST(RegisterFile, TwoAndEightByteAccessesGetBurstError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 3}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    EXPECT_EQ(bus(rf, tlm::TLM_READ_COMMAND, kScratch, 2), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(bus(rf, tlm::TLM_WRITE_COMMAND, kScratch, 8), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(rf.get(kScratch), 0xdeadbeefu);
    bus.t.set_streaming_width(2);  // a 4-byte access streaming into a 2-byte window
    rf.transport(bus.t, bus.delay);
    EXPECT_EQ(bus.t.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
}

TEST(RegisterFile, MisalignedAddressGetsAddressError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 2}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.read(rf, kScratch + 1, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(bus.write(rf, kScratch + 2, 0), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rf.get(kScratch), 0xdeadbeefu);
}

TEST(RegisterFile, ReservedOffsetGetsAddressError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 3}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.read(rf, 0x0c, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(bus.write(rf, 0x1000, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(bus.write(rf, 0x100000000ull, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // beyond 32-bit offsets
}

TEST(RegisterFile, WriteToReadOnlyGetsCommandErrorAndKeepsTheValue) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    EXPECT_EQ(bus.write(rf, kStatus, 0), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rf.get(kStatus), 0x80000001u);
}

TEST(RegisterFile, ReadOfWriteOnlyGetsCommandError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.write(rf, kDoorbell, 0x1234), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(bus.read(rf, kDoorbell, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST(RegisterFile, ByteEnablesGetByteEnableError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    unsigned char be[4] = {0xff, 0xff, 0, 0};
    bus.write(rf, kScratch, 0);
    bus.t.set_byte_enable_ptr(be);
    bus.t.set_byte_enable_length(4);
    rf.transport(bus.t, bus.delay);
    EXPECT_EQ(bus.t.get_response_status(), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
}

TEST(RegisterFile, ReservedBitsReadZeroAndIgnoreWrites) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.write(rf, kCtrl, 0xffffffff), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(rf.get(kCtrl), 0xfu);
    rf.set(kCtrl, 0xabcdef3a);  // the hardware side is not masked, the bus read is
    EXPECT_EQ(bus.read(rf, kCtrl, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0xau);
}

TEST(RegisterFile, OnWriteSeesTheMaskedValueAfterItIsStored) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    std::vector<std::uint32_t> seen, stored;
    add_test_registers(rf, [&](std::uint32_t v) {
        seen.push_back(v);
        stored.push_back(rf.get(kCtrl));
    });
    BusAccess bus;
    EXPECT_EQ(bus.write(rf, kCtrl, 0x123), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(bus.write(rf, kStatus, 1), tlm::TLM_COMMAND_ERROR_RESPONSE);  // no hook on failed accesses
    EXPECT_EQ(seen, std::vector<std::uint32_t>{0x3});
    EXPECT_EQ(stored, std::vector<std::uint32_t>{0x3});
}

TEST(RegisterFile, OnReadComputesTheReturnedValueWithoutStoringIt) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    int reads = 0;
    rf.add({"COUNT", 0x0, Access::kReadOnly, 0, 0xff}, [&](std::uint32_t stored) {
        ++reads;
        return stored + 0x100 + reads;  // bit 8 is reserved and must not show
    });
    BusAccess bus;
    std::uint32_t v = 0;
    EXPECT_EQ(bus.read(rf, 0x0, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 1u);
    EXPECT_EQ(bus.read(rf, 0x0, v), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 2u);
    EXPECT_EQ(rf.get(0x0), 0u);
}

TEST(RegisterFile, AccessLatencyIsAddedToTheDelayOfEveryAccess) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    add_test_registers(rf);
    rf.set_access_latency(sc_time(5, SC_NS));
    BusAccess bus;
    std::uint32_t v = 0;
    bus.delay = sc_time(100, SC_NS);
    bus.read(rf, kScratch, v);
    EXPECT_EQ(bus.delay, sc_time(105, SC_NS));
    bus.read(rf, 0x0c, v);  // the bus cycle happens even when it fails
    EXPECT_EQ(bus.delay, sc_time(110, SC_NS));
}

TEST(RegisterFile, NullDataPointerGetsGenericErrorInsteadOfCrashing) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 1}});
    RegisterFile rf;
    add_test_registers(rf);
    BusAccess bus;
    bus.write(rf, kScratch, 0);
    bus.t.set_data_ptr(nullptr);
    rf.transport(bus.t, bus.delay);
    EXPECT_EQ(bus.t.get_response_status(), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(rf.transport_dbg(bus.t), 0u);
}

TEST(RegisterFile, AddRejectsDuplicateAndMisalignedOffsets) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    add_test_registers(rf);
    EXPECT_THROW(rf.add({"AGAIN", kCtrl, Access::kReadWrite}), std::invalid_argument);
    EXPECT_THROW(rf.add({"ODD", 0x22, Access::kReadWrite}), std::invalid_argument);
    EXPECT_THROW(rf.add({"CTRL", 0x40, Access::kReadWrite}), std::invalid_argument);
    EXPECT_EQ(rf.size(), 4u);
    EXPECT_EQ(rf.offset_of("SCRATCH"), kScratch);
    EXPECT_THROW(rf.offset_of("NOPE"), std::out_of_range);
    EXPECT_THROW(rf.get(0x0c), std::out_of_range);
}

TEST(RegisterFile, DebugTransportReadsAndWritesWithoutHooks) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    int hooks = 0;
    add_test_registers(rf, [&](std::uint32_t) { ++hooks; });
    unsigned char buf[12] = {};
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(kCtrl);
    t.set_data_ptr(buf);
    t.set_data_length(12);
    EXPECT_EQ(rf.transport_dbg(t), 8u);  // CTRL, STATUS, then stops at write-only DOORBELL
    EXPECT_EQ(buf[0], 0x5);
    EXPECT_EQ(buf[7], 0x80);

    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_data_length(4);
    buf[0] = 0xff;
    EXPECT_EQ(rf.transport_dbg(t), 4u);
    EXPECT_EQ(rf.get(kCtrl), 0xfu);
    EXPECT_EQ(hooks, 0);
    t.set_address(kStatus);
    EXPECT_EQ(rf.transport_dbg(t), 0u);  // read-only
    t.set_address(0x0c);
    EXPECT_EQ(rf.transport_dbg(t), 0u);  // reserved
}

TEST(RegisterFile, DatasheetListsRegistersInOffsetOrder) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    RegisterFile rf;
    rf.add({"SCRATCH", kScratch, Access::kReadWrite, 0xdeadbeef});
    rf.add({"CTRL", kCtrl, Access::kReadWrite, 0x5, 0xf});
    rf.add({"STATUS", kStatus, Access::kReadOnly});
    EXPECT_EQ(rf.datasheet(),
              "offset      name     access  reset       mask\n"
              "0x00000000  CTRL     RW      0x00000005  0x0000000f\n"
              "0x00000004  STATUS   RO      0x00000000  0xffffffff\n"
              "0x00000010  SCRATCH  RW      0xdeadbeef  0xffffffff\n");
}

// An MMIO device as the platform's blocks will write one: the module owns the
// register file and forwards its socket callbacks.
struct TestDevice : sc_core::sc_module {
    tlm_utils::simple_target_socket<TestDevice> socket;
    RegisterFile regs;
    std::vector<std::uint32_t> doorbells;

    explicit TestDevice(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") {
        socket.register_b_transport(this, &TestDevice::b_transport);
        socket.register_transport_dbg(this, &TestDevice::transport_dbg);
        regs.add({"CTRL", kCtrl, Access::kReadWrite, 0x5, 0xf});
        regs.add({"STATUS", kStatus, Access::kReadOnly, 0x80000001});
        regs.add({"DOORBELL", kDoorbell, Access::kWriteOnly}, {},
                 [this](std::uint32_t v) { doorbells.push_back(v); });
        regs.set_access_latency(sc_time(20, SC_NS));
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) { regs.transport(t, delay); }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return regs.transport_dbg(t); }
};

struct TestCpu : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<TestCpu> socket;
    cimvp::tlmx::TimedInitiator io;
    std::function<void(TestCpu&)> body;
    bool finished = false;

    SC_HAS_PROCESS(TestCpu);
    TestCpu(sc_core::sc_module_name n, std::function<void(TestCpu&)> b)
        : sc_core::sc_module(n), socket("socket"), io(socket, "cpu"), body(std::move(b)) {
        SC_THREAD(run);
    }
    void run() {
        body(*this);
        finished = true;
    }
};

TEST(RegisterFile, MmioDeviceBehindTheRouterAnswersEveryCheck) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/register_file", 6}, {"/cimvp/router", 1}});
    constexpr std::uint64_t kBase = 0x40000000;
    cimvp::tlmx::configure_global_quantum(sc_time(1, sc_core::SC_US));
    TestCpu cpu("cpu", [](TestCpu& c) {
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kBase + kStatus, v), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x80000001u);
        EXPECT_EQ(c.io.local_time(), sc_time(20, SC_NS));
        EXPECT_EQ(c.io.write32(kBase + kDoorbell, 42), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(c.io.write32(kBase + kStatus, 0), tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read32(kBase + kDoorbell, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read32(kBase + 0x0c, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read32(kBase + 0x2, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        unsigned char wide[8] = {};
        EXPECT_EQ(c.io.read(kBase + kCtrl, wide, 8), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read(kBase + kCtrl, wide, 2), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read(kBase + 0xffe, wide, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // past the region
    });
    cimvp::tlmx::Router bus("bus");
    TestDevice dev("dev");
    bus.attach("cpu", cpu.socket);
    bus.map("dev", kBase, 0x1000, dev.socket);
    sc_core::sc_start();
    EXPECT_TRUE(cpu.finished);
    EXPECT_EQ(dev.doorbells, std::vector<std::uint32_t>{42});
}

}  // namespace
