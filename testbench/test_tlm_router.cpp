// Router decoding, translation, DMI and tracing, and the TimedInitiator that
// drives it, each on a small harness: one CPU thread, a router, memories.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "testbench/sc_test_support.h"
#include "tlm/router.h"
#include "tlm/timed_initiator.h"
#include "tlm/transaction_log.h"

namespace {

using cimvp::tlmx::Router;
using cimvp::tlmx::TimedInitiator;
using cimvp::tlmx::TransactionLog;
using sc_core::SC_NS;
using sc_core::sc_time;

constexpr std::uint64_t kRam0 = 0x10000000;
constexpr std::uint64_t kRam0Size = 0x1000;
constexpr std::uint64_t kRam1 = 0x20000000;
constexpr std::uint64_t kRam1Size = 0x100;

// A loosely-timed memory at local offsets that remembers every b_transport address.
struct TestMemory : sc_core::sc_module {
    tlm_utils::simple_target_socket<TestMemory> socket;
    std::vector<unsigned char> mem;
    std::vector<std::uint64_t> seen;
    sc_time latency;
    bool dmi_read_only = false;
    bool dmi_whole_space = false;  // grant [0, 2^64-1], as a sloppy target might
    int dmi_requests = 0;

    TestMemory(sc_core::sc_module_name n, std::size_t size, sc_time lat = sc_time(10, SC_NS))
        : sc_core::sc_module(n), socket("socket"), mem(size), latency(lat) {
        socket.register_b_transport(this, &TestMemory::b_transport);
        socket.register_get_direct_mem_ptr(this, &TestMemory::get_direct_mem_ptr);
        socket.register_transport_dbg(this, &TestMemory::transport_dbg);
    }

    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        seen.push_back(t.get_address());
        const std::uint64_t a = t.get_address();
        const unsigned len = t.get_data_length();
        if (a + len > mem.size()) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (t.is_read()) std::memcpy(t.get_data_ptr(), &mem[a], len);
        if (t.is_write()) std::memcpy(&mem[a], t.get_data_ptr(), len);
        delay += latency;
        t.set_dmi_allowed(true);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }

    bool get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
        ++dmi_requests;
        dmi.set_dmi_ptr(mem.data());
        dmi.set_start_address(0);
        dmi.set_end_address(dmi_whole_space ? std::numeric_limits<std::uint64_t>::max() : mem.size() - 1);
        dmi.set_granted_access(dmi_read_only ? tlm::tlm_dmi::DMI_ACCESS_READ : tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
        dmi.set_read_latency(sc_time(1, SC_NS));
        dmi.set_write_latency(sc_time(2, SC_NS));
        return true;
    }

    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        const std::uint64_t a = t.get_address();
        if (a >= mem.size()) return 0;
        const unsigned n = static_cast<unsigned>(std::min<std::uint64_t>(t.get_data_length(), mem.size() - a));
        if (t.is_read()) std::memcpy(t.get_data_ptr(), &mem[a], n);
        if (t.is_write()) std::memcpy(&mem[a], t.get_data_ptr(), n);
        return n;
    }

    void invalidate(std::uint64_t start, std::uint64_t end) { socket->invalidate_direct_mem_ptr(start, end); }
};

// Runs the test body in an SC_THREAD, issuing transactions through a TimedInitiator.
struct TestCpu : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<TestCpu> socket;
    TimedInitiator io;
    std::function<void(TestCpu&)> body;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> invalidations;
    bool finished = false;

    SC_HAS_PROCESS(TestCpu);
    TestCpu(sc_core::sc_module_name n, std::function<void(TestCpu&)> b)
        : sc_core::sc_module(n), socket("socket"), io(socket, "cpu"), body(std::move(b)) {
        socket.register_invalidate_direct_mem_ptr(this, &TestCpu::invalidate);
        SC_THREAD(run);
    }

    void run() {
        body(*this);
        finished = true;
    }

    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
        invalidations.emplace_back(start, end);
        io.invalidate(start, end);
    }
};

struct Platform {
    TestCpu cpu;
    Router bus{"bus"};
    TestMemory ram0{"ram0", kRam0Size};
    TestMemory ram1{"ram1", kRam1Size};

    explicit Platform(std::function<void(TestCpu&)> body) : cpu("cpu", std::move(body)) {
        bus.attach("cpu", cpu.socket);
        bus.map("ram0", kRam0, kRam0Size, ram0.socket);
        bus.map("ram1", kRam1, kRam1Size, ram1.socket);
    }

    void run() {
        sc_core::sc_start();
        EXPECT_TRUE(cpu.finished) << "test body did not run to the end";
    }
};

TEST(Router, RoutesToTwoTargetsAtRegionLocalOffsets) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu& c) {
        EXPECT_EQ(c.io.write32(kRam0 + 0x10, 0x11223344), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(c.io.write32(kRam1 + 0x20, 0xa5a5f00d), tlm::TLM_OK_RESPONSE);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kRam0 + 0x10, v), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0x11223344u);
        EXPECT_EQ(c.io.read32(kRam1 + 0x20, v), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0xa5a5f00du);
    });
    p.run();
    EXPECT_EQ(p.ram0.seen, (std::vector<std::uint64_t>{0x10, 0x10}));
    EXPECT_EQ(p.ram1.seen, (std::vector<std::uint64_t>{0x20, 0x20}));
    EXPECT_EQ(p.ram0.mem[0x10], 0x44);  // little-endian
    EXPECT_EQ(p.ram1.mem[0x23], 0xa5);
}

TEST(Router, RestoresTheGlobalAddressAfterForwarding) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu& c) {
        unsigned char data[4] = {};
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(kRam1 + 0x40);
        t.set_data_ptr(data);
        t.set_data_length(4);
        t.set_streaming_width(4);
        EXPECT_EQ(c.io.transport(t), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(t.get_address(), kRam1 + 0x40);
    });
    p.run();
    EXPECT_EQ(p.ram1.seen, (std::vector<std::uint64_t>{0x40}));
}

TEST(Router, UnmappedAddressGetsAddressErrorAndIsNotForwarded) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 4}});
    Platform p([](TestCpu& c) {
        std::uint32_t v = 0xdeadbeef;
        EXPECT_EQ(c.io.read32(0x0, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);                    // below every region
        EXPECT_EQ(c.io.write32(kRam0 + kRam0Size, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);     // in the gap
        EXPECT_EQ(c.io.read32(kRam1 + kRam1Size, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);      // above every region
        EXPECT_EQ(c.io.read32(~std::uint64_t{0} - 3, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // top of the space
        EXPECT_EQ(v, 0xdeadbeefu);
    });
    p.run();
    EXPECT_TRUE(p.ram0.seen.empty());
    EXPECT_TRUE(p.ram1.seen.empty());
}

TEST(Router, AccessRunningPastTheRegionEndGetsAddressErrorAndIsNotForwarded) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 2}});
    Platform p([](TestCpu& c) {
        unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        EXPECT_EQ(c.io.write(kRam1 + kRam1Size - 4, buf, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(c.io.write(kRam0 + kRam0Size - 1, buf, 2), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(c.io.write(kRam1 + kRam1Size - 4, buf, 4), tlm::TLM_OK_RESPONSE);  // up to the last byte is fine
    });
    p.run();
    EXPECT_TRUE(p.ram0.seen.empty());
    EXPECT_EQ(p.ram1.seen, (std::vector<std::uint64_t>{kRam1Size - 4}));
}

TEST(Router, OverlappingOrEmptyMapThrowsNamingBothRegions) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Router bus("bus");
    TestMemory a("a", 0x1000), b("b", 0x100), c("c", 0x100), d("d", 0x10);
    bus.map("a", 0x1000, 0x1000, a.socket);
    const auto message_of = [&](std::uint64_t base, std::uint64_t size, TestMemory& m) -> std::string {
        try {
            bus.map(m.name(), base, size, m.socket);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    const std::string inside = message_of(0x1800, 0x100, b);
    EXPECT_NE(inside.find("'a'"), std::string::npos) << inside;
    EXPECT_NE(inside.find("'b'"), std::string::npos) << inside;
    const std::string below = message_of(0x0, 0x1001, b);  // last byte lands on a's first
    EXPECT_NE(below.find("'a'"), std::string::npos) << below;
    EXPECT_NE(message_of(0x1000, 0, b).find("size 0"), std::string::npos);
    EXPECT_NE(message_of(~std::uint64_t{0}, 2, b).find("wraps"), std::string::npos);
    EXPECT_EQ(bus.regions().size(), 1u);

    bus.map("c", 0x2000, 0x100, c.socket);  // adjacent regions do not overlap
    bus.map("d", 0x0, 0x1000, d.socket);
    ASSERT_EQ(bus.regions().size(), 3u);
    EXPECT_EQ(bus.regions()[0].name, "d");
    EXPECT_EQ(bus.regions()[2].name, "c");
}

TEST(Router, DmiThroughRouterGrantsGlobalRangeClampedToRegion) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu&) {});
    p.ram0.dmi_whole_space = true;
    bool checked = false;
    p.cpu.body = [&](TestCpu& c) {
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        tlm::tlm_dmi d;
        t.set_address(kRam1 + 0x10);
        ASSERT_TRUE(c.socket->get_direct_mem_ptr(t, d));
        EXPECT_EQ(t.get_address(), kRam1 + 0x10);
        EXPECT_EQ(d.get_start_address(), kRam1);
        EXPECT_EQ(d.get_end_address(), kRam1 + kRam1Size - 1);
        EXPECT_EQ(d.get_dmi_ptr(), p.ram1.mem.data());

        d.init();
        t.set_address(kRam0 + 0x800);
        ASSERT_TRUE(c.socket->get_direct_mem_ptr(t, d));
        EXPECT_EQ(d.get_start_address(), kRam0);
        EXPECT_EQ(d.get_end_address(), kRam0 + kRam0Size - 1);  // not the target's 2^64-1

        d.init();
        t.set_address(kRam0 + kRam0Size + 0x40);
        EXPECT_FALSE(c.socket->get_direct_mem_ptr(t, d));
        EXPECT_EQ(d.get_granted_access(), tlm::tlm_dmi::DMI_ACCESS_NONE);
        EXPECT_EQ(d.get_start_address(), kRam0 + kRam0Size);  // the denied range is the gap
        EXPECT_EQ(d.get_end_address(), kRam1 - 1);
        checked = true;
    };
    p.run();
    EXPECT_TRUE(checked);
}

TEST(Router, DebugTransportTranslatesTruncatesAtRegionEndAndIgnoresUnmapped) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu& c) {
        unsigned char buf[16] = {};
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_data_ptr(buf);
        t.set_data_length(16);
        t.set_address(kRam0 + 0x20);
        EXPECT_EQ(c.socket->transport_dbg(t), 16u);
        EXPECT_EQ(buf[0], 0x20);
        EXPECT_EQ(buf[15], 0x2f);
        t.set_address(kRam1 + kRam1Size - 8);
        EXPECT_EQ(c.socket->transport_dbg(t), 8u);
        EXPECT_EQ(t.get_data_length(), 16u);
        t.set_address(kRam1 + kRam1Size);
        EXPECT_EQ(c.socket->transport_dbg(t), 0u);
    });
    std::iota(p.ram0.mem.begin(), p.ram0.mem.end(), 0);
    p.run();
    EXPECT_TRUE(p.ram0.seen.empty());
}

TEST(Router, TargetInvalidationReachesInitiatorsInGlobalAddresses) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu&) {});
    p.cpu.body = [&](TestCpu& c) {
        c.io.use_dmi(true);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kRam1, v), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(c.io.dmi_regions(), 1u);
        p.ram1.invalidate(0x10, 0x1f);
        EXPECT_EQ(c.io.dmi_regions(), 0u);
        p.ram1.invalidate(0x0, std::numeric_limits<std::uint64_t>::max());
        p.ram1.invalidate(kRam1Size, kRam1Size + 4);  // outside the region: nothing to tell
    };
    p.run();
    using Range = std::pair<std::uint64_t, std::uint64_t>;
    EXPECT_EQ(p.cpu.invalidations,
              (std::vector<Range>{{kRam1 + 0x10, kRam1 + 0x1f}, {kRam1, kRam1 + kRam1Size - 1}}));
}

TEST(Router, DecodesEachOfThousandsOfRegions) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 2}});
    constexpr int kRegions = 2048;
    constexpr std::uint64_t kStride = 0x1000;
    std::vector<int> order(kRegions);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(7));  // map out of address order

    TestCpu cpu("cpu", [&](TestCpu& c) {
        for (int i = 0; i < kRegions; ++i)
            EXPECT_EQ(c.io.write32(i * kStride + 4 * (i % 16), static_cast<std::uint32_t>(i)), tlm::TLM_OK_RESPONSE);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kRegions * kStride, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(c.io.read32(5 * kStride + 0x40, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // gap after region 5
    });
    Router bus("bus");
    bus.attach("cpu", cpu.socket);
    std::vector<std::unique_ptr<TestMemory>> mems(kRegions);
    for (int i : order) {
        const std::string n = "m" + std::to_string(i);
        mems[i] = std::make_unique<TestMemory>(n.c_str(), 0x40);
        bus.map(n, i * kStride, 0x40, mems[i]->socket);
    }
    ASSERT_EQ(bus.regions().size(), static_cast<std::size_t>(kRegions));
    for (int i = 1; i < kRegions; ++i) ASSERT_LT(bus.regions()[i - 1].base, bus.regions()[i].base);
    ASSERT_NE(bus.find(17 * kStride + 0x3f), nullptr);
    EXPECT_EQ(bus.find(17 * kStride + 0x3f)->name, "m17");

    sc_core::sc_start();
    EXPECT_TRUE(cpu.finished);
    for (int i = 0; i < kRegions; ++i)
        ASSERT_EQ(mems[i]->seen, (std::vector<std::uint64_t>{4u * (i % 16)})) << "region " << i;
}

TEST(Router, DescribeListsRegionsInAddressOrder) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Router bus("bus");
    TestMemory hi("hi", 0x10), lo("lo", 0x10);
    bus.map("sram", 0x20000000, 0x100000, hi.socket);
    bus.map("rom", 0x0, 0x1000, lo.socket);
    const std::string text = bus.describe();
    EXPECT_NE(text.find("bus: 2 regions"), std::string::npos) << text;
    EXPECT_NE(text.find("0x0000000000000000-0x0000000000000fff"), std::string::npos) << text;
    EXPECT_NE(text.find("1 MiB  sram"), std::string::npos) << text;
    EXPECT_LT(text.find("rom"), text.find("sram")) << text;
}

TEST(RouterLog, DisabledLogRecordsNothing) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 1}});
    TransactionLog log;
    std::ostringstream os;
    log.set_stream(&os);
    log.keep_records(true);
    Platform p([](TestCpu& c) {
        std::uint32_t v = 0;
        c.io.write32(kRam0, 1);
        c.io.read32(0x0, v);
    });
    p.bus.set_log(&log);
    p.run();
    EXPECT_TRUE(log.records().empty());
    EXPECT_TRUE(os.str().empty());
}

TEST(RouterLog, EnabledLogRecordsTimeInitiatorTargetCommandAddressLengthAndResponse) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 2}});
    cimvp::tlmx::configure_global_quantum(sc_time(10, sc_core::SC_US));
    TransactionLog log;
    std::ostringstream os;
    log.set_stream(&os);
    log.keep_records(true);
    log.enable(true);
    Platform p([&](TestCpu& c) {
        unsigned char buf[64] = {};
        c.io.add_delay(sc_time(1230, SC_NS));
        EXPECT_EQ(c.io.write(kRam0 + 0x40, buf, 64), tlm::TLM_OK_RESPONSE);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(0x0, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        log.enable(false);  // switchable while the simulation runs
        c.io.read32(kRam1, v);
        log.enable(true);
        EXPECT_EQ(c.io.read(kRam1 + kRam1Size - 2, buf, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    });
    p.bus.set_log(&log);
    p.run();

    ASSERT_EQ(log.records().size(), 3u);
    const auto& w = log.records()[0];
    EXPECT_EQ(w.time, sc_time(1230, SC_NS));
    EXPECT_EQ(w.initiator, "cpu");
    EXPECT_EQ(w.target, "ram0");
    EXPECT_EQ(w.command, tlm::TLM_WRITE_COMMAND);
    EXPECT_EQ(w.address, kRam0 + 0x40);  // global, not the target's offset
    EXPECT_EQ(w.length, 64u);
    EXPECT_EQ(w.response, tlm::TLM_OK_RESPONSE);
    const auto& r = log.records()[1];
    EXPECT_EQ(r.time, sc_time(1240, SC_NS));  // plus ram0's 10 ns
    EXPECT_EQ(r.target, "<unmapped>");
    EXPECT_EQ(r.command, tlm::TLM_READ_COMMAND);
    EXPECT_EQ(r.response, tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(log.records()[2].target, "ram1");

    EXPECT_EQ(os.str(),
              "[TLM 1.230 us] cpu -> ram0 WR 0x10000040 len=64 OK\n"
              "[TLM 1.240 us] cpu -> <unmapped> RD 0x00000000 len=4 ADDRESS_ERROR\n"
              "[TLM 1.250 us] cpu -> ram1 RD 0x200000fe len=4 ADDRESS_ERROR\n");
}

TEST(TimedInitiator, LocalTimeRunsAheadUntilTheQuantumThenSyncs) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    cimvp::tlmx::configure_global_quantum(sc_time(100, SC_NS));
    Platform p([](TestCpu& c) {
        for (int i = 1; i <= 3; ++i) {
            EXPECT_EQ(c.io.write32(kRam0, i), tlm::TLM_OK_RESPONSE);
            EXPECT_EQ(c.io.local_time(), sc_time(30.0 * i, SC_NS));
            EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
        }
        EXPECT_EQ(c.io.write32(kRam0, 4), tlm::TLM_OK_RESPONSE);  // 120 ns >= quantum
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(120, SC_NS));
        EXPECT_EQ(c.io.local_time(), sc_core::SC_ZERO_TIME);
        c.io.add_delay(sc_time(5, SC_NS));
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(120, SC_NS));
        c.io.sync();
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(125, SC_NS));
    });
    p.ram0.latency = sc_time(30, SC_NS);
    p.run();
}

TEST(TimedInitiator, DmiReadReturnsTheSameBytesAsBTransport) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 1}});
    cimvp::tlmx::configure_global_quantum(sc_time(1, sc_core::SC_MS));
    Platform p([](TestCpu&) {});
    p.cpu.body = [&](TestCpu& c) {
        std::vector<unsigned char> pattern(256), via_bt(256), via_dmi(256);
        for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<unsigned char>(i * 7 + 3);
        EXPECT_EQ(c.io.write(kRam0 + 0x100, pattern.data(), pattern.size()), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(c.io.read(kRam0 + 0x100, via_bt.data(), via_bt.size()), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(p.ram0.dmi_requests, 0);

        c.io.use_dmi(true);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kRam0, v), tlm::TLM_OK_RESPONSE);  // b_transport, then the DMI request
        EXPECT_EQ(p.ram0.dmi_requests, 1);
        const std::size_t bt_calls = p.ram0.seen.size();
        const sc_time before = c.io.local_time();
        EXPECT_EQ(c.io.read(kRam0 + 0x100, via_dmi.data(), via_dmi.size()), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(p.ram0.seen.size(), bt_calls) << "read went through b_transport";
        EXPECT_EQ(c.io.local_time() - before, sc_time(1, SC_NS));  // the DMI read latency
        EXPECT_EQ(via_dmi, via_bt);
        EXPECT_EQ(via_dmi, pattern);
        // Past the cached region: falls back to b_transport and its error.
        EXPECT_EQ(c.io.read(kRam0 + kRam0Size - 2, via_dmi.data(), 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    };
    p.run();
}

TEST(TimedInitiator, DmiWritesNeedWritePermission) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p([](TestCpu&) {});
    p.ram1.dmi_read_only = true;
    p.cpu.body = [&](TestCpu& c) {
        c.io.use_dmi(true);
        std::uint32_t v = 0;
        EXPECT_EQ(c.io.read32(kRam1 + 8, v), tlm::TLM_OK_RESPONSE);
        const std::size_t bt_calls = p.ram1.seen.size();
        EXPECT_EQ(c.io.write32(kRam1 + 8, 0xcafe), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(p.ram1.seen.size(), bt_calls + 1);
        EXPECT_EQ(c.io.read32(kRam1 + 8, v), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(v, 0xcafeu);
        EXPECT_EQ(p.ram1.seen.size(), bt_calls + 1) << "read-only DMI region not used for the read";
    };
    p.run();
}

TEST(TimedInitiator, ErrorResponsesAreReturnedNotThrown) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/router", 1}});
    Platform p([](TestCpu& c) {
        std::uint32_t v = 7;
        EXPECT_NO_THROW(EXPECT_EQ(c.io.read32(0x4, v), tlm::TLM_ADDRESS_ERROR_RESPONSE));
        EXPECT_EQ(v, 7u);
        EXPECT_EQ(c.io.read(kRam0, nullptr, std::size_t{1} << 33), tlm::TLM_GENERIC_ERROR_RESPONSE);
    });
    p.run();
}

}  // namespace
