// The system top (sw/system/system.h): the host reaches the platform through
// the router, the instruments exist only when the options ask for them, the
// VCD's scopes are named relative to the system, and the program's exception
// reaches the caller, also when it is a protocol checker's report.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "hw/address_map.h"
#include "hw/arch_config.h"
#include "hw/controller.h"
#include "sw/system/system.h"
#include "testbench/sc_test_support.h"

namespace cimvp {
namespace {

ArchConfig small_config() {
    ArchConfig cfg;
    cfg.platform.tiles = 2;
    return cfg;
}

std::uint32_t read_controller_id(HostCpu& cpu) {
    std::uint32_t id = 0;
    EXPECT_EQ(cpu.bus().read32(kControllerBase + controller_regs::kId, id), tlm::TLM_OK_RESPONSE);
    return id;
}

TEST(System, RunsTheProgramOnTheHostAgainstThePlatformWithNoInstrumentsByDefault) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    System sys("system", small_config());
    EXPECT_EQ(sys.waveforms(), nullptr);
    EXPECT_EQ(sys.rtl_adc(), nullptr);
    EXPECT_EQ(sys.rtl_pe(), nullptr);
    EXPECT_EQ(sys.command_recorder(), nullptr);
    EXPECT_FALSE(sys.platform.log.enabled());
    std::uint32_t id = 0;
    bool raised = true;
    sys.run([&](HostCpu& cpu) {
        id = read_controller_id(cpu);
        // Nothing started: the interrupt line the system bound stays low.
        raised = cpu.wait_for_irq(sc_core::sc_time(1, sc_core::SC_US));
    });
    EXPECT_EQ(id, controller_regs::kIdValue);
    EXPECT_FALSE(raised);
    EXPECT_EQ(sc_core::sc_get_status(), sc_core::SC_STOPPED);
    EXPECT_TRUE(sys.platform.router.protocol_checkers().empty()) << "no protocol checker on the default path";
    EXPECT_FALSE(sys.protocol_counts().has_value());
}

TEST(System, PutsAProtocolCheckerOnEveryRouterLinkWhenTheConfigAsks) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    ArchConfig cfg = small_config();
    cfg.platform.check_protocol = true;
    System sys("system", cfg);
    const tlmx::Router& router = sys.platform.router;
    // Every region's target and every initiator (the host, controller, DMA, PPU, PE array, each tile).
    EXPECT_EQ(router.protocol_checkers().size(), router.regions().size() + 7);
    EXPECT_EQ(router.protocol_checkers().back()->link(), "host -> router") << "the system attaches the host last";
    sys.run([&](HostCpu& cpu) {
        read_controller_id(cpu);
        const std::uint32_t w = 0x12345678;
        std::uint32_t r = 0;
        EXPECT_EQ(cpu.bus().write(0x100, &w, 4), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(cpu.bus().read(0x100, &r, 4), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(r, w);
    });
    ASSERT_TRUE(sys.protocol_counts().has_value());
    const tlmx::ProtocolCounts c = *sys.protocol_counts();
    EXPECT_EQ(c.links, router.protocol_checkers().size());
    // The ID read and the DRAM write, each on the host's link and on its target's; the DRAM read
    // goes through the DMI region the write's hint let the host ask for (two links).
    EXPECT_EQ(c.transports, 2u * 2);
    EXPECT_EQ(c.dmi_requests, 2u);
    EXPECT_EQ(c.violations, 0u);
}

TEST(System, StopsAtTheFirstProtocolViolationAndRethrowsIt) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const test::CaptureScErrors errors(tlmx::ProtocolChecker::kReportId, /*keep_actions=*/true);
    ArchConfig cfg = small_config();
    cfg.platform.check_protocol = true;
    System sys("system", cfg);
    bool went_on = false;
    EXPECT_THROW(sys.run([&](HostCpu& cpu) {
        tlm::tlm_generic_payload t;  // a read without a data pointer
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(0x100);
        t.set_data_length(4);
        t.set_streaming_width(4);
        sc_core::sc_time delay;
        cpu.bus_socket->b_transport(t, delay);
        went_on = true;
    }),
                 sc_core::sc_report);
    EXPECT_FALSE(went_on);
    ASSERT_EQ(errors.texts().size(), 1u);
    EXPECT_NE(errors.texts()[0].find("data pointer is null [IEEE 1666-2011 14.11 e)] on host -> router"),
              std::string::npos)
        << errors.texts()[0];
}

TEST(System, RecordsTheHostsAccessesAndInterruptWaitsWhenAsked) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    SystemOptions o;
    o.record_commands = true;
    System sys("system", small_config(), o);
    ASSERT_NE(sys.command_recorder(), nullptr);
    sys.run([&](HostCpu& cpu) {
        read_controller_id(cpu);
        cpu.wait_for_irq(sc_core::sc_time(1, sc_core::SC_US));
    });
    const CommandStream& s = sys.command_recorder()->stream();
    ASSERT_EQ(s.events.size(), 2u);
    EXPECT_EQ(s.events[0].kind, StreamEventKind::kRead);
    EXPECT_EQ(s.events[0].address, kControllerBase + controller_regs::kId);
    EXPECT_EQ(s.events[1].kind, StreamEventKind::kIrqWait);
    EXPECT_FALSE(s.events[1].raised);
}

TEST(System, PrintsEveryBusTransactionWhenTheLogIsAsked) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    std::ostringstream log;
    SystemOptions o;
    o.log_transactions = true;
    o.log_stream = &log;
    System sys("system", small_config(), o);
    sys.run([&](HostCpu& cpu) { read_controller_id(cpu); });
    EXPECT_NE(log.str().find("RD"), std::string::npos) << log.str();
}

TEST(System, NamesTheWaveformScopesRelativeToTheSystemTop) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const std::string path = ::testing::TempDir() + "test_system_scopes.vcd";
    SystemOptions o;
    o.waveforms.path = path;
    {
        System sys("system", small_config(), o);
        ASSERT_NE(sys.waveforms(), nullptr);
        sys.run([&](HostCpu& cpu) { read_controller_id(cpu); });
    }
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    // The same scopes as a platform built at the top (docs/debugging.md).
    EXPECT_NE(text.str().find("$scope module platform $end"), std::string::npos);
    EXPECT_NE(text.str().find("$scope module host $end"), std::string::npos);
    EXPECT_EQ(text.str().find("system"), std::string::npos);
    std::remove(path.c_str());
}

TEST(System, RethrowsTheProgramsException) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    System sys("system", small_config());
    EXPECT_THROW(sys.run([](HostCpu&) { throw std::runtime_error("the program failed"); }), std::runtime_error);
}

}  // namespace
}  // namespace cimvp
