// TLM-2.0 base-protocol checks (tlm/protocol_checker.h): clean traffic through
// a router built with checks passes every link and is counted; each rule, broken
// on purpose by an initiator, a target or an interconnect, is reported as an
// SC_REPORT_ERROR naming the rule, its IEEE 1666-2011 clause and the link.
#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstring>
#include <functional>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "testbench/sc_test_support.h"
#include "tlm/protocol_checker.h"
#include "tlm/router.h"

namespace {

using cimvp::test::CaptureScErrors;
using cimvp::tlmx::ProtocolChecker;
using cimvp::tlmx::Router;
using cimvp::tlmx::TargetAnswers;
using sc_core::SC_NS;
using sc_core::sc_time;

constexpr const char* kId = ProtocolChecker::kReportId;
constexpr std::uint64_t kMem = 0x1000;
constexpr std::uint64_t kMemSize = 0x100;

// The one rule a FaultyMemory breaks.
enum class Fault {
    kNone,
    kKeepIncomplete,     // returns without setting the response status
    kLowerDelay,         // takes time off the delay instead of adding its latency
    kChangeAddress,      // leaves the address changed
    kChangeWriteData,    // writes into the data array of a write
    kChangeLength,       // leaves the data length changed
    kKeepExtension,      // sets an extension on a payload without a memory manager and keeps it there
    kDmiOutsideRange,    // grants a range that does not hold the address asked for
    kDmiNullPointer,     // grants DMI without a pointer
    kDmiReadOnly,        // grants read access to a write request
    kDebugOvercount,     // returns more bytes than the debug transaction holds
    kDebugChangeLength,  // leaves the debug transaction's data length changed
};

struct TestExtension : tlm::tlm_extension<TestExtension> {
    tlm::tlm_extension_base* clone() const override { return new TestExtension(*this); }
    void copy_from(const tlm::tlm_extension_base&) override {}
};

// A loosely-timed memory at local offsets that breaks `fault`, and runs `on_transport` (once)
// inside its b_transport.
struct FaultyMemory : sc_core::sc_module {
    tlm_utils::simple_target_socket<FaultyMemory> socket;
    std::vector<unsigned char> mem;
    Fault fault = Fault::kNone;
    std::function<void(tlm::tlm_generic_payload&, sc_time&)> on_transport;
    TestExtension ext;

    FaultyMemory(sc_core::sc_module_name n, std::size_t size) : sc_core::sc_module(n), socket("socket"), mem(size) {
        socket.register_b_transport(this, &FaultyMemory::b_transport);
        socket.register_get_direct_mem_ptr(this, &FaultyMemory::get_direct_mem_ptr);
        socket.register_transport_dbg(this, &FaultyMemory::transport_dbg);
    }

    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        if (on_transport) std::exchange(on_transport, nullptr)(t, delay);
        const std::uint64_t a = t.get_address();
        const unsigned len = t.get_data_length();
        unsigned char* p = t.get_data_ptr();
        if (a > mem.size() || len > mem.size() - a) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (p && t.is_read()) std::memcpy(p, &mem[a], len);
        if (p && t.is_write()) std::memcpy(&mem[a], p, len);
        delay += sc_time(10, SC_NS);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        switch (fault) {
            case Fault::kKeepIncomplete:
                t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
                break;
            case Fault::kLowerDelay:
                delay -= sc_time(15, SC_NS);
                break;
            case Fault::kChangeAddress:
                t.set_address(a + 4);
                break;
            case Fault::kChangeWriteData:
                p[0] ^= 0xff;
                break;
            case Fault::kChangeLength:
                t.set_data_length(len - 1);
                break;
            case Fault::kKeepExtension:
                t.set_extension(&ext);
                break;
            default:
                break;
        }
    }

    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        dmi.set_dmi_ptr(fault == Fault::kDmiNullPointer ? nullptr : mem.data());
        dmi.set_start_address(fault == Fault::kDmiOutsideRange ? t.get_address() + 1 : 0);
        dmi.set_end_address(mem.size() - 1);
        dmi.set_granted_access(fault == Fault::kDmiReadOnly ? tlm::tlm_dmi::DMI_ACCESS_READ
                                                            : tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
        dmi.set_read_latency(sc_time(1, SC_NS));
        dmi.set_write_latency(sc_time(1, SC_NS));
        return true;
    }

    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        const unsigned len = t.get_data_length();
        if (t.get_data_ptr() && t.is_read()) std::memcpy(t.get_data_ptr(), mem.data(), len);
        if (fault == Fault::kDebugChangeLength) t.set_data_length(len / 2);
        return fault == Fault::kDebugOvercount ? len + 1 : len;
    }

    void invalidate(std::uint64_t start, std::uint64_t end) { socket->invalidate_direct_mem_ptr(start, end); }
};

// Runs the test body in an SC_THREAD.
struct Cpu : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Cpu> socket;
    std::function<void(Cpu&)> body;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> invalidations;
    bool finished = false;

    SC_HAS_PROCESS(Cpu);
    explicit Cpu(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") {
        socket.register_invalidate_direct_mem_ptr(this, &Cpu::invalidate);
        SC_THREAD(run);
    }
    void run() {
        if (body) body(*this);
        finished = true;
    }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { invalidations.emplace_back(start, end); }

    tlm::tlm_response_status transport(tlm::tlm_generic_payload& t, sc_time delay = sc_core::SC_ZERO_TIME) {
        socket->b_transport(t, delay);
        return t.get_response_status();
    }
};

// A well-formed request, as an initiator sets it up before b_transport.
void request(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data, unsigned len) {
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_byte_enable_length(0);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

// cpu -> bus (a router built with checks) -> mem at kMem.
struct Bench {
    Cpu cpu{"cpu"};
    Router bus{"bus", /*check_protocol=*/true};
    FaultyMemory mem{"mem", kMemSize};

    Bench() {
        bus.attach("cpu", cpu.socket);
        bus.map("mem", kMem, kMemSize, mem.socket);
    }
    void run(std::function<void(Cpu&)> body) {
        cpu.body = std::move(body);
        sc_core::sc_start();
        EXPECT_TRUE(cpu.finished) << "the test body did not run to its end";
    }
};

// The captured reports, one per line, for a failure message.
std::string texts(const CaptureScErrors& c) {
    std::string all;
    for (const std::string& t : c.texts()) all += "\n  " + t;
    return all;
}

TEST(ProtocolChecker, CleanTrafficPassesEveryLinkAndIsCounted) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const CaptureScErrors errors(kId);
    const cimvp::test::ExpectScWarnings warnings({{Router::kReportId, 1}});  // the unmapped read
    Bench b;
    ASSERT_TRUE(b.bus.checks_protocol());
    ASSERT_EQ(b.bus.protocol_checkers().size(), 2u);
    EXPECT_EQ(b.bus.protocol_checkers()[0]->link(), "cpu -> bus");
    EXPECT_EQ(b.bus.protocol_checkers()[0]->downstream(), ProtocolChecker::Downstream::kInterconnect);
    EXPECT_EQ(b.bus.protocol_checkers()[1]->link(), "bus -> mem");
    EXPECT_EQ(b.bus.protocol_checkers()[1]->downstream(), ProtocolChecker::Downstream::kTarget);
    EXPECT_NE(sc_core::sc_find_object("bus_to_mem"), nullptr);
    EXPECT_NE(sc_core::sc_find_object("cpu_to_bus"), nullptr);
    b.run([&](Cpu& c) {
        unsigned char w[16], r[16] = {};
        for (int i = 0; i < 16; ++i) w[i] = static_cast<unsigned char>(i * 3 + 1);
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_WRITE_COMMAND, kMem + 0x20, w, 16);
        EXPECT_EQ(c.transport(t, sc_time(5, SC_NS)), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(t.get_address(), kMem + 0x20) << "the router restores the address";
        request(t, tlm::TLM_READ_COMMAND, kMem + 0x20, r, 16);
        EXPECT_EQ(c.transport(t), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(std::memcmp(r, w, 16), 0);
        request(t, tlm::TLM_IGNORE_COMMAND, kMem, w, 4);
        EXPECT_EQ(c.transport(t), tlm::TLM_OK_RESPONSE);
        unsigned char be[4] = {0xff, 0x00, 0xff, 0x00};
        request(t, tlm::TLM_WRITE_COMMAND, kMem, w, 4);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(4);
        EXPECT_EQ(c.transport(t), tlm::TLM_OK_RESPONSE);

        tlm::tlm_dmi dmi;
        request(t, tlm::TLM_READ_COMMAND, kMem + 0x10, r, 4);
        EXPECT_TRUE(c.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(dmi.get_start_address(), kMem);
        request(t, tlm::TLM_READ_COMMAND, kMem + 0x20, r, 16);
        EXPECT_EQ(c.socket->transport_dbg(t), 16u);
        b.mem.invalidate(0x10, 0x1f);
        request(t, tlm::TLM_READ_COMMAND, 0x0, r, 4);  // unmapped: the router answers, and not with OK
        EXPECT_EQ(c.transport(t), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    });
    EXPECT_TRUE(errors.texts().empty()) << texts(errors);
    const auto& links = b.bus.protocol_checkers();
    EXPECT_EQ(links[0]->counts().transports, 5u);
    EXPECT_EQ(links[1]->counts().transports, 4u) << "the unmapped read never reaches the target's link";
    const cimvp::tlmx::ProtocolCounts sum = b.bus.protocol_counts();
    EXPECT_EQ(sum.links, 2u);
    EXPECT_EQ(sum.transports, 9u);
    EXPECT_EQ(sum.transactions, 5u) << "each counted once, on the cpu's link";
    EXPECT_EQ(sum.dmi_requests, 2u);
    EXPECT_EQ(sum.debug_transports, 2u);
    EXPECT_EQ(sum.invalidations, 2u) << "seen on the target's link and on the way to the cpu";
    EXPECT_EQ(sum.violations, 0u);
    EXPECT_EQ(b.cpu.invalidations, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{kMem + 0x10, kMem + 0x1f}}));
}

TEST(ProtocolChecker, RouterWithoutChecksPutsNothingOnItsLinks) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Cpu cpu("cpu");
    Router bus("bus");
    FaultyMemory mem("mem", kMemSize);
    bus.attach("cpu", cpu.socket);
    bus.map("mem", kMem, kMemSize, mem.socket);
    EXPECT_FALSE(bus.checks_protocol());
    EXPECT_TRUE(bus.protocol_checkers().empty());
    EXPECT_EQ(sc_core::sc_find_object("bus_to_mem"), nullptr);
    EXPECT_EQ(bus.protocol_counts().calls(), 0u);
}

// One broken initiator rule per case: the request's attributes as b_transport gets them.
struct RequestCase {
    const char* clause;
    const char* words;
    std::function<void(tlm::tlm_generic_payload&)> spoil;
};

struct NoMemoryManager : tlm::tlm_mm_interface {
    void free(tlm::tlm_generic_payload*) override {}
};

TEST(ProtocolChecker, ReportsEveryInitiatorRuleBrokenOnTheWayIn) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    static unsigned char be_bad[4] = {0xff, 0x0f, 0xff, 0xff};
    static unsigned char be_any[4] = {0xff, 0xff, 0xff, 0xff};
    static NoMemoryManager mm;
    const std::vector<RequestCase> cases = {
        // 3: the one value the enum can hold (its range is 0..3) that is none of its three commands; a
        // value outside that range would be undefined behaviour before the checker saw it.
        {"14.10", "is none of TLM_READ_COMMAND", [](auto& t) { t.set_command(static_cast<tlm::tlm_command>(3)); }},
        {"14.11 e)", "data pointer is null", [](auto& t) { t.set_data_ptr(nullptr); }},
        {"14.12 d)", "data length is 0", [](auto& t) { t.set_data_length(0); }},
        {"14.14 f)", "byte enable pointer set with byte enable length 0",
         [](auto& t) { t.set_byte_enable_ptr(be_any); }},
        {"14.14", "byte enable 1 is 0x0f, expected 0x00 (disabled) or 0xff (enabled)",
         [](auto& t) {
             t.set_byte_enable_ptr(be_bad);
             t.set_byte_enable_length(4);
         }},
        {"14.15 f)", "streaming width is 0", [](auto& t) { t.set_streaming_width(0); }},
        {"14.16", "DMI hint is already set", [](auto& t) { t.set_dmi_allowed(true); }},
        {"14.17 e)", "response status is not TLM_INCOMPLETE_RESPONSE",
         [](auto& t) { t.set_response_status(tlm::TLM_OK_RESPONSE); }},
        {"14.8 g)", "gp_option is not TLM_MIN_PAYLOAD", [](auto& t) { t.set_gp_option(tlm::TLM_FULL_PAYLOAD); }},
        {"14.5 t)", "reference count 0", [](auto& t) { t.set_mm(&mm); }},
    };
    Bench b;
    b.run([&](Cpu& c) {
        for (const RequestCase& k : cases) {
            SCOPED_TRACE(k.clause);
            errors.clear();
            unsigned char data[4] = {};
            tlm::tlm_generic_payload t;
            request(t, tlm::TLM_WRITE_COMMAND, kMem + 8, data, 4);
            k.spoil(t);
            c.transport(t);
            const std::string clause = std::string("[IEEE 1666-2011 ") + k.clause + "]";
            EXPECT_EQ(errors.matching({clause, k.words, "on cpu -> bus: b_transport"}).size(), 1u) << texts(errors);
            t.set_mm(nullptr);
        }
    });
    EXPECT_GE(b.bus.protocol_counts().violations, cases.size());
}

TEST(ProtocolChecker, StopsTheInitiatorAtTheFirstViolationByDefault) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const CaptureScErrors errors(kId, /*keep_actions=*/true);
    Bench b;
    b.run([&](Cpu& c) {
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem, nullptr, 4);
        EXPECT_THROW(c.transport(t), sc_core::sc_report) << "SystemC's default action for an error throws";
    });
    ASSERT_EQ(errors.texts().size(), 1u) << texts(errors);
    EXPECT_NE(errors.texts()[0].find("cpu -> bus"), std::string::npos);
    EXPECT_EQ(b.bus.protocol_checkers()[1]->counts().transports, 0u)
        << "the transaction went no further than the link that caught it";
}

// One broken target rule per case, caught by the checker on the target's link.
struct TargetCase {
    Fault fault;
    const char* clause;
    const char* words;
};

TEST(ProtocolChecker, ReportsTargetsThatBreakTheRulesOnReturn) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    const std::vector<TargetCase> cases = {
        {Fault::kKeepIncomplete, "14.17", "still TLM_INCOMPLETE_RESPONSE"},
        {Fault::kLowerDelay, "11.1.3", "the delay went down from 10 ns to 5 ns"},
        {Fault::kChangeAddress, "14.7", "the target changed the address from 0x00000008"},
        {Fault::kChangeWriteData, "14.7", "the data array of a write changed"},
        {Fault::kChangeLength, "14.7", "data length changed during the call"},
        {Fault::kKeepExtension, "14.5 aa)", "an extension was added to a payload without a memory manager"},
    };
    Bench b;
    b.run([&](Cpu& c) {
        for (const TargetCase& k : cases) {
            SCOPED_TRACE(k.words);
            errors.clear();
            b.mem.fault = k.fault;
            unsigned char data[4] = {1, 2, 3, 4};
            tlm::tlm_generic_payload t;
            request(t, tlm::TLM_WRITE_COMMAND, kMem + 8, data, 4);
            c.transport(t, sc_time(10, SC_NS));
            const std::string clause = std::string("[IEEE 1666-2011 ") + k.clause + "]";
            EXPECT_EQ(errors.matching({clause, k.words, "on bus -> mem: b_transport (on return)"}).size(), 1u)
                << texts(errors);
            t.clear_extension<TestExtension>();  // the memory's own object: not the payload's to free
        }
        b.mem.fault = Fault::kNone;
    });
}

TEST(ProtocolChecker, ReportsAPayloadSentAgainWhileItIsInFlight) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    b.run([&](Cpu& c) {
        unsigned char data[4] = {};
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem, data, 4);
        // The memory sends the payload it is serving into the bus again, at its global address.
        b.mem.on_transport = [&](tlm::tlm_generic_payload& same, sc_time& delay) {
            const std::uint64_t local = same.get_address();
            same.set_address(kMem + local);
            c.socket->b_transport(same, delay);
            same.set_address(local);
        };
        c.transport(t);
    });
    EXPECT_EQ(errors
                  .matching({"[IEEE 1666-2011 14.5]", "sent again while its previous b_transport on this link",
                             "on cpu -> bus"})
                  .size(),
              1u)
        << texts(errors);
}

// Calls b_transport from a method process, once at the start of the simulation.
struct MethodCaller : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<MethodCaller> socket;
    unsigned char data[4] = {};
    SC_HAS_PROCESS(MethodCaller);
    explicit MethodCaller(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") { SC_METHOD(call); }
    void call() {
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem, data, 4);
        sc_time delay;
        socket->b_transport(t, delay);
    }
};

TEST(ProtocolChecker, ReportsBlockingTransportFromAMethodProcess) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    MethodCaller m("method");
    b.bus.attach("method", m.socket);
    b.run([](Cpu&) {});
    EXPECT_EQ(errors
                  .matching({"[IEEE 1666-2011 11.1.1.4 b)]", "b_transport called from the method process method.call",
                             "on method -> bus"})
                  .size(),
              1u)
        << texts(errors);
}

TEST(ProtocolChecker, RefusesNonBlockingTransportOnALooselyTimedLink) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    b.run([&](Cpu& c) {
        unsigned char data[4] = {};
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem, data, 4);
        tlm::tlm_phase phase = tlm::BEGIN_REQ;
        sc_time delay;
        EXPECT_EQ(c.socket->nb_transport_fw(t, phase, delay), tlm::TLM_COMPLETED);
        EXPECT_EQ(t.get_response_status(), tlm::TLM_GENERIC_ERROR_RESPONSE);
    });
    EXPECT_EQ(errors.matching({"nb_transport_fw on a loosely-timed link", "on cpu -> bus"}).size(), 1u)
        << texts(errors);
}

// The mistake of Memory.GrantsWholeArrayDmiThroughTheRouter (testbench/test_memory_dma.cpp): a
// granted descriptor passed into the next request as it is.
TEST(ProtocolChecker, ReportsADmiDescriptorThatIsNotInItsInitialState) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    b.run([&](Cpu& c) {
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem + 0x40, nullptr, 0);
        tlm::tlm_dmi dmi;
        EXPECT_TRUE(c.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_TRUE(errors.texts().empty()) << texts(errors);
        c.socket->get_direct_mem_ptr(t, dmi);  // reused as the grant left it
        EXPECT_EQ(errors
                      .matching({"[IEEE 1666-2011 11.2.5]", "the DMI descriptor is not in its initial state",
                                 "dmi_ptr, granted_access, start_address, end_address, read_latency, write_latency",
                                 "on cpu -> bus: get_direct_mem_ptr RD 0x00001040"})
                      .size(),
                  1u)
            << texts(errors);
        errors.clear();
        dmi.init();
        EXPECT_TRUE(c.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_TRUE(errors.texts().empty()) << texts(errors);
    });
}

TEST(ProtocolChecker, ReportsDmiAnswersThatBreakTheRules) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    const std::vector<TargetCase> cases = {
        {Fault::kDmiOutsideRange, "11.2.5",
         "the DMI range [0x00000041, 0x000000ff] does not contain the address 0x00000040"},
        {Fault::kDmiNullPointer, "11.2.5", "DMI granted with a null DMI pointer"},
        {Fault::kDmiReadOnly, "11.2.5", "DMI granted without the access the command asked for"},
    };
    Bench b;
    b.run([&](Cpu& c) {
        for (const TargetCase& k : cases) {
            SCOPED_TRACE(k.words);
            errors.clear();
            b.mem.fault = k.fault;
            tlm::tlm_generic_payload t;
            request(t, tlm::TLM_WRITE_COMMAND, kMem + 0x40, nullptr, 0);
            tlm::tlm_dmi dmi;
            c.socket->get_direct_mem_ptr(t, dmi);
            EXPECT_EQ(
                errors.matching({"[IEEE 1666-2011 11.2.5]", k.words, "on bus -> mem: get_direct_mem_ptr (on return)"})
                    .size(),
                1u)
                << texts(errors);
        }
    });
}

TEST(ProtocolChecker, ReportsDebugTransportsThatBreakTheRules) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    b.run([&](Cpu& c) {
        unsigned char data[8] = {};
        tlm::tlm_generic_payload t;
        request(t, tlm::TLM_READ_COMMAND, kMem, nullptr, 8);
        c.socket->transport_dbg(t);
        EXPECT_EQ(errors
                      .matching({"[IEEE 1666-2011 11.3.4 l)]", "data pointer is null with data length 8",
                                 "on cpu -> bus: transport_dbg"})
                      .size(),
                  1u)
            << texts(errors);

        errors.clear();
        b.mem.fault = Fault::kDebugOvercount;
        request(t, tlm::TLM_READ_COMMAND, kMem, data, 8);
        c.socket->transport_dbg(t);
        EXPECT_EQ(errors
                      .matching({"[IEEE 1666-2011 11.3.4 s)]",
                                 "returned 9 bytes transferred, more than the data length 8", "on bus -> mem"})
                      .size(),
                  1u)
            << texts(errors);

        errors.clear();
        b.mem.fault = Fault::kDebugChangeLength;
        request(t, tlm::TLM_READ_COMMAND, kMem, data, 8);
        c.socket->transport_dbg(t);
        EXPECT_EQ(
            errors.matching({"[IEEE 1666-2011 11.3.4]", "data length changed during the call", "on bus -> mem"}).size(),
            1u)
            << texts(errors);
        b.mem.fault = Fault::kNone;
    });
}

TEST(ProtocolChecker, ReportsAnInvalidationRangeThatEndsBeforeItStarts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Bench b;
    b.run([&](Cpu&) { b.mem.invalidate(0x20, 0x10); });
    EXPECT_EQ(
        errors
            .matching({"[IEEE 1666-2011 11.2.6]", "invalidated range [0x00000020, 0x00000010] ends before it starts",
                       "on bus -> mem: invalidate_direct_mem_ptr"})
            .size(),
        1u)
        << texts(errors);
    EXPECT_TRUE(b.cpu.invalidations.empty()) << "the router passes on no range that ends before it starts";
}

// An interconnect that breaks one rule of its own, between two checkers that share their target answers.
enum class XbarFault { kNone, kTranslateAddress, kAnswerForTheTarget, kChangeStatus, kChangeReadData };

struct FaultyInterconnect : sc_core::sc_module {
    tlm_utils::simple_target_socket<FaultyInterconnect> in;
    tlm_utils::simple_initiator_socket<FaultyInterconnect> out;
    XbarFault fault = XbarFault::kNone;

    explicit FaultyInterconnect(sc_core::sc_module_name n) : sc_core::sc_module(n), in("in"), out("out") {
        in.register_b_transport(this, &FaultyInterconnect::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        if (fault == XbarFault::kAnswerForTheTarget) {
            t.set_response_status(tlm::TLM_OK_RESPONSE);
            return;
        }
        // Like a router, it translates the address for the target; unlike one, it may leave it so.
        const std::uint64_t global = t.get_address();
        t.set_address(global - kMem);
        out->b_transport(t, delay);
        if (fault != XbarFault::kTranslateAddress) t.set_address(global);
        if (fault == XbarFault::kChangeStatus) t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        if (fault == XbarFault::kChangeReadData) t.get_data_ptr()[0] ^= 0x01;
    }
};

TEST(ProtocolChecker, ReportsAnInterconnectThatAnswersForTheTargetOrChangesItsAnswer) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    CaptureScErrors errors(kId);
    Cpu cpu("cpu");
    TargetAnswers answers;
    ProtocolChecker upstream("upstream", "cpu -> xbar", ProtocolChecker::Downstream::kInterconnect, answers);
    FaultyInterconnect xbar("xbar");
    ProtocolChecker downstream("downstream", "xbar -> mem", ProtocolChecker::Downstream::kTarget, answers);
    FaultyMemory mem("mem", kMemSize);
    cpu.socket.bind(upstream.target_socket);
    upstream.initiator_socket.bind(xbar.in);
    xbar.out.bind(downstream.target_socket);
    downstream.initiator_socket.bind(mem.socket);
    const std::vector<std::pair<XbarFault, const char*>> cases = {
        {XbarFault::kTranslateAddress, nullptr},  // allowed: an interconnect may change the address (14.7)
        {XbarFault::kAnswerForTheTarget, "the interconnect answered TLM_OK_RESPONSE, but no target completed"},
        {XbarFault::kChangeStatus, "the interconnect changed the target's response status OK"},
        {XbarFault::kChangeReadData, "the interconnect changed the data the target returned"},
    };
    cpu.body = [&](Cpu& c) {
        for (const auto& [fault, words] : cases) {
            errors.clear();
            xbar.fault = fault;
            unsigned char data[4] = {};
            tlm::tlm_generic_payload t;
            request(t, tlm::TLM_READ_COMMAND, kMem + 4, data, 4);
            c.transport(t);
            if (!words) {
                EXPECT_TRUE(errors.texts().empty()) << texts(errors);
                continue;
            }
            SCOPED_TRACE(words);
            EXPECT_EQ(errors.matching({words, "on cpu -> xbar: b_transport (on return)"}).size(), 1u) << texts(errors);
        }
    };
    sc_core::sc_start();
    EXPECT_TRUE(cpu.finished);
    EXPECT_EQ(upstream.counts().transports, 4u);
    EXPECT_EQ(downstream.counts().transports, 3u);
}

}  // namespace
