// Controller: register access rules, command lists with DMA, tile runs and
// register writes, every error code, the IRQ line and the timing rule (DMA
// blocking, tile runs overlapping until a fence). Each TEST elaborates its own
// platform slice and runs in its own process (ctest).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/controller.h"
#include "hw/dma.h"
#include "hw/memory.h"
#include "hw/arch_config.h"
#include "testbench/sc_test_host.h"
#include "testbench/sc_test_support.h"
#include "tlm/register_file.h"
#include "tlm/router.h"
#include "tlm/timed_initiator.h"
#include "tlm/transaction_log.h"

namespace {

using namespace cimvp;
using namespace cimvp::controller_regs;
using sc_core::sc_time;
using sc_core::SC_NS;
using Host = cimvp::test::BusHost;
using cimvp::test::QuantumSetup;

constexpr std::uint64_t kKiB = 1024;

sc_time ns(double v) { return sc_time(v, SC_NS); }
sc_time us(double v) { return sc_time(v, sc_core::SC_US); }
std::uint32_t code(ControllerError e) { return static_cast<std::uint32_t>(e); }

// Stand-in for a CIM tile's register block: START runs `vectors` vectors of 100 ns
// each (annotated on the START write); vectors == 0 sets STATUS.ERROR.
class FakeTile : public sc_core::sc_module {
public:
    static constexpr double kNsPerVector = 100;
    tlm_utils::simple_target_socket<FakeTile> socket;
    std::vector<sc_time> starts;  // when each START arrived
    std::vector<sc_time> ends;    // when each run finishes

    explicit FakeTile(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") {
        using tlmx::Access;
        regs_.add({"CTRL", Controller::kTileCtrl, Access::kWriteOnly, 0, 1}, {},
                  [this](std::uint32_t v) { start_ |= (v & 1) != 0; });
        regs_.add({"STATUS", Controller::kTileStatus, Access::kReadOnly, 0, 0x7});
        regs_.add({"VECTORS", Controller::kTileVectors, Access::kReadWrite, 0});
        regs_.add({"VECTOR_BASE", Controller::kTileVectorBase, Access::kReadWrite, 0});
        socket.register_b_transport(this, &FakeTile::b_transport);
    }

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        start_ = false;
        regs_.transport(t, delay);
        if (!start_) return;
        const std::uint32_t vectors = regs_.get(Controller::kTileVectors);
        starts.push_back(sc_core::sc_time_stamp() + delay);
        if (vectors == 0) {
            regs_.set(Controller::kTileStatus, Controller::kTileStatusError);
            return;
        }
        regs_.set(Controller::kTileStatus, 2);
        delay += ns(kNsPerVector * vectors);
        ends.push_back(sc_core::sc_time_stamp() + delay);
    }

    tlmx::RegisterFile regs_;
    bool start_ = false;
};

ArchConfig test_config() {
    ArchConfig cfg;  // DRAM: 256 MiB, 50 ns, 12.8 B/ns; buffers: 1 ns, 64 B/ns; 1 ns clock, 4 cycles/command
    cfg.platform.input_buffer.size_bytes = 128 * kKiB;
    return cfg;
}

// Router + DRAM + SRAM (tile 0's input buffer) + DMA + controller + two fake tiles + host.
struct Platform {
    QuantumSetup quantum{ns(1000)};
    ArchConfig cfg = test_config();
    AddressMap amap{cfg};
    tlmx::Router router{"router"};
    Memory dram{"dram", cfg.platform.dram};
    Memory sram{"sram", cfg.platform.input_buffer};
    Dma dma{"dma", cfg.dma};
    Controller ctrl{"ctrl", cfg.digital, kDmaBase};
    FakeTile tile0{"tile0"}, tile1{"tile1"};
    Host host{"host"};
    sc_core::sc_signal<bool> irq{"irq"};
    const std::uint64_t sram_base = amap.tile_input(0);

    Platform() {
        router.attach("host", host.socket);
        router.attach("ctrl", ctrl.bus_socket);
        router.attach("dma", dma.bus_socket);
        router.map("dram", kDramBase, dram.size(), dram.socket);
        router.map("ctrl", kControllerBase, kMmioWindow, ctrl.regs_socket);
        router.map("dma", kDmaBase, kMmioWindow, dma.regs_socket);
        router.map("sram", sram_base, sram.size(), sram.socket);
        router.map("tile0", amap.tile_regs(0), kMmioWindow, tile0.socket);
        router.map("tile1", amap.tile_regs(1), kMmioWindow, tile1.socket);
        ctrl.irq(irq);
        host.irq(irq);
    }

    void put_list(std::uint64_t addr, const std::vector<Command>& cmds) {
        std::memcpy(dram.data() + addr, cmds.data(), cmds.size() * sizeof(Command));
    }
    std::uint32_t sram_word(std::uint64_t offset) const {
        std::uint32_t v;
        std::memcpy(&v, sram.data() + offset, 4);
        return v;
    }
    void run(std::function<void(Host&)> body) { host.simulate(std::move(body)); }
};

void start_list(Host& h, std::uint64_t base, std::uint32_t count, std::uint32_t irq_enable = kIrqDone | kIrqError) {
    h.set_reg(kCmdBaseLo, static_cast<std::uint32_t>(base));
    h.set_reg(kCmdBaseHi, static_cast<std::uint32_t>(base >> 32));
    h.set_reg(kCmdCount, count);
    h.set_reg(kIrqEnable, irq_enable);
    h.set_reg(kCtrl, kCtrlStart);
}

std::uint64_t perf_cycles(Host& h) { return std::uint64_t{h.reg(kPerfCyclesHi)} << 32 | h.reg(kPerfCyclesLo); }

DmaDescriptor copy(std::uint64_t src, std::uint64_t dst, std::uint32_t bytes) {
    DmaDescriptor d;
    d.src = src;
    d.dst = dst;
    d.row_bytes = bytes;
    return d;
}

Command bad_opcode() {
    Command c;
    c.opcode = 99;
    return c;
}

constexpr std::uint64_t kList = 0x1000;

// --- register access ---

TEST(Controller, ReadsIdAndVersion) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.run([&](Host& h) {
        EXPECT_EQ(h.reg(kId), kIdValue);
        EXPECT_EQ(h.reg(kVersion), kVersionValue);
        EXPECT_EQ(h.reg(kStatus), 0u);
        EXPECT_EQ(h.reg(kIrqStatus), 0u);
        const sc_time before = h.now();
        h.reg(kId);
        EXPECT_EQ(h.now() - before, ns(p.cfg.digital.clock_ns)) << "a register access costs one clock";
    });
}

TEST(Controller, BadAccessSizeIsABurstError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 4}});
    Platform p;
    p.run([&](Host& h) {
        std::uint64_t wide = 0;
        EXPECT_EQ(h.bus.read(kControllerBase + kId, &wide, 8), tlm::TLM_BURST_ERROR_RESPONSE);
        std::uint8_t byte = 1;
        EXPECT_EQ(h.bus.write(kControllerBase + kCmdCount, &byte, 1), tlm::TLM_BURST_ERROR_RESPONSE);
        std::uint32_t v = 0;
        EXPECT_EQ(h.bus.read32(kControllerBase + 0x02, v), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "misaligned";
        EXPECT_EQ(h.bus.read32(kControllerBase + 0x40, v), tlm::TLM_ADDRESS_ERROR_RESPONSE) << "reserved";
        EXPECT_EQ(h.reg(kCmdCount), 0u) << "the rejected write left CMD_COUNT alone";
    });
}

TEST(Controller, WritesToReadOnlyRegistersAreRejected) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 11}});
    Platform p;
    p.run([&](Host& h) {
        for (std::uint32_t ro : {kId, kVersion, kStatus, kError, kErrorIndex, kPerfCyclesLo, kPerfCyclesHi,
                                 kPerfCommands, kPerfTileRuns, kPerfDmaCommands})
            EXPECT_EQ(h.bus.write32(kControllerBase + ro, 0xffffffff), tlm::TLM_COMMAND_ERROR_RESPONSE)
                << "offset 0x" << std::hex << ro;
        std::uint32_t v = 0;
        EXPECT_EQ(h.bus.read32(kControllerBase + kCtrl, v), tlm::TLM_COMMAND_ERROR_RESPONSE) << "CTRL is write-only";
        EXPECT_EQ(h.reg(kId), kIdValue);
        EXPECT_EQ(h.reg(kStatus), 0u);
        h.set_reg(kIrqEnable, 0xffffffff);
        EXPECT_EQ(h.reg(kIrqEnable), kIrqDone | kIrqError) << "reserved bits read 0";
    });
}

// --- command lists ---

TEST(Controller, DmaListRunsSetsDoneRaisesIrqAndCounts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    for (int i = 0; i < 3; ++i)
        for (int b = 0; b < 4096; ++b) p.dram.data()[0x10000 + i * 4096 + b] = static_cast<std::uint8_t>(i * 37 + b);
    // kEnd stops the list before CMD_COUNT does: the fifth command is never executed.
    p.put_list(kList, {make_dma(copy(0x10000, p.sram_base, 4096)), make_dma(copy(0x11000, p.sram_base + 4096, 4096)),
                       make_dma(copy(0x12000, p.sram_base + 8192, 4096)), Command{}, bad_opcode()});
    p.run([&](Host& h) {
        EXPECT_FALSE(h.irq.read());
        const sc_time t0 = h.now();
        start_list(h, kList, 5);
        const sc_time started = h.now();  // START takes effect at the write's local time
        EXPECT_EQ(h.reg(kStatus), kStatusBusy);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        EXPECT_EQ(h.reg(kError), 0u);
        EXPECT_EQ(h.reg(kIrqStatus), kIrqDone);
        EXPECT_EQ(h.reg(kPerfCommands), 4u);
        EXPECT_EQ(h.reg(kPerfDmaCommands), 3u);
        EXPECT_EQ(h.reg(kPerfTileRuns), 0u);
        // fetch of CMD_COUNT = 5 commands (50 ns + 5 x 48 B / 12.8 B/ns) + 4 commands x 4 cycles
        // + 3 DMAs x (setup 20 + DRAM 50 + 4096 / 12.8)
        const double expect_ns = 68.75 + 16 + 3 * 390;
        EXPECT_EQ(perf_cycles(h), 1255u) << "whole cycles, rounded up";
        EXPECT_EQ(sc_core::sc_time_stamp() - started, ns(expect_ns)) << "the IRQ rises when the list is done";
        EXPECT_GT(started, t0);
    });
    EXPECT_EQ(std::memcmp(p.sram.data(), p.dram.data() + 0x10000, 3 * 4096), 0);
    EXPECT_EQ(p.dma.counters().descriptors, 3u);
}

TEST(Controller, EmptyListFinishesImmediately) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.run([&](Host& h) {
        start_list(h, kList, 0);
        const sc_time started = h.now();
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(sc_core::sc_time_stamp(), started);
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        EXPECT_EQ(perf_cycles(h), 0u);
        EXPECT_EQ(h.reg(kPerfCommands), 0u);
    });
}

TEST(Controller, CommandCountBoundsAListWithoutEnd) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.put_list(kList, {make_reg_write(p.sram_base, 11), make_reg_write(p.sram_base + 4, 22), bad_opcode()});
    p.run([&](Host& h) {
        start_list(h, kList, 2);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        EXPECT_EQ(h.reg(kPerfCommands), 2u);
    });
    EXPECT_EQ(p.sram_word(0), 11u);
    EXPECT_EQ(p.sram_word(4), 22u);
}

TEST(Controller, BadOpcodeFailsWithCode1AndRaisesErrorIrq) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}});
    Platform p;
    std::memset(p.sram.data(), 0xee, 8192);
    p.put_list(kList, {make_dma(copy(0x10000, p.sram_base, 64)), make_reg_write(p.sram_base + 4096, 7), bad_opcode(),
                       make_dma(copy(0x10000, p.sram_base + 8000, 64))});
    p.run([&](Host& h) {
        start_list(h, kList, 4);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusError);
        EXPECT_EQ(h.reg(kError), code(ControllerError::kBadOpcode));
        EXPECT_EQ(h.reg(kErrorIndex), 2u);
        EXPECT_EQ(h.reg(kIrqStatus), kIrqError);
        EXPECT_EQ(h.reg(kPerfCommands), 2u);
        EXPECT_EQ(h.reg(kPerfDmaCommands), 1u);
    });
    EXPECT_EQ(p.sram_word(4096), 7u);
    EXPECT_EQ(p.sram.data()[8000], 0xee) << "nothing after the failing command runs";
    EXPECT_EQ(p.dma.counters().descriptors, 1u);
}

TEST(Controller, ListAtUnmappedAddressFailsWithCode2) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/router", 2}});
    Platform p;
    p.run([&](Host& h) {
        start_list(h, 0x3000'0000, 10);  // between DRAM and the registers
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusError);
        EXPECT_EQ(h.reg(kError), code(ControllerError::kFetch));
        EXPECT_EQ(h.reg(kErrorIndex), 0u);
        EXPECT_EQ(h.reg(kIrqStatus), kIrqError);
        EXPECT_EQ(h.reg(kPerfCommands), 0u);
    });
}

TEST(Controller, ListRunningOffTheEndOfDramFailsAtTheFirstUnfetchableCommand) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/router", 2}});
    Platform p;
    const std::uint64_t base = p.dram.size() - 2 * sizeof(Command);
    p.put_list(base, {make_reg_write(p.sram_base, 1), make_reg_write(p.sram_base + 4, 2)});
    p.run([&](Host& h) {
        start_list(h, base, 5);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kError), code(ControllerError::kFetch));
        EXPECT_EQ(h.reg(kErrorIndex), 2u);
        EXPECT_EQ(h.reg(kPerfCommands), 2u);
    });
    EXPECT_EQ(p.sram_word(0), 1u) << "the commands before the failing fetch still ran";
    EXPECT_EQ(p.sram_word(4), 2u);
}

TEST(Controller, LongListIsFetchedInChunks) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}});
    Platform p;
    std::vector<Command> cmds;
    for (std::uint32_t i = 0; i < 65; ++i) cmds.push_back(make_reg_write(p.sram_base + 4 * i, 1000 + i));
    cmds.push_back(bad_opcode());
    for (int i = 0; i < 4; ++i) cmds.push_back(make_reg_write(p.sram_base + 4 * (100 + i), 1));
    p.put_list(kList, cmds);
    p.run([&](Host& h) {
        p.dram.reset_counters();
        start_list(h, kList, static_cast<std::uint32_t>(cmds.size()));
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kError), code(ControllerError::kBadOpcode));
        EXPECT_EQ(h.reg(kErrorIndex), 65u);
        EXPECT_EQ(h.reg(kPerfCommands), 65u);
    });
    for (std::uint32_t i = 0; i < 65; ++i) ASSERT_EQ(p.sram_word(4 * i), 1000 + i) << "command " << i;
    EXPECT_EQ(p.sram_word(4 * 65), 0u);
    EXPECT_EQ(p.sram_word(4 * 100), 0u);
    EXPECT_EQ(p.dram.counters().reads, 3u) << "32 + 32 + 6 commands";
    EXPECT_EQ(p.dram.counters().bytes_read, cmds.size() * sizeof(Command));
}

TEST(Controller, DmaGoingOutOfBoundsFailsWithCode3) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/dma", 1}, {"/cimvp/router", 1}});
    Platform p;
    p.put_list(kList, {make_dma(copy(0x10000, p.sram_base, 256)),
                       make_dma(copy(0x10000, p.sram_base + p.sram.size() - 100, 256)), Command{}});
    p.run([&](Host& h) {
        start_list(h, kList, 3);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusError);
        EXPECT_EQ(h.reg(kError), code(ControllerError::kDma));
        EXPECT_EQ(h.reg(kErrorIndex), 1u);
        EXPECT_EQ(h.reg(kPerfDmaCommands), 1u);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kError), static_cast<std::uint32_t>(DmaError::kDestinationWrite));
    });
}

TEST(Controller, RegWriteToUnmappedAddressFailsWithCode5) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}, {"/cimvp/router", 1}});
    Platform p;
    p.put_list(kList, {make_reg_write(p.sram_base, 5), make_reg_write(0x3000'0000, 1), Command{}});
    p.run([&](Host& h) {
        start_list(h, kList, 3);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kError), code(ControllerError::kRegWrite));
        EXPECT_EQ(h.reg(kErrorIndex), 1u);
    });
    EXPECT_EQ(p.sram_word(0), 5u);
}

// --- IRQ, START rules, soft reset ---

TEST(Controller, IrqStatusWriteOneToClearDropsIrq) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.put_list(kList, {make_reg_write(p.sram_base, 1)});
    p.run([&](Host& h) {
        start_list(h, kList, 1);
        ASSERT_TRUE(h.wait_irq());
        ASSERT_EQ(h.reg(kIrqStatus), kIrqDone);
        h.set_reg(kIrqStatus, 0);
        h.set_reg(kIrqStatus, kIrqError);  // not pending: no effect
        h.settle();
        EXPECT_TRUE(h.irq.read());
        EXPECT_EQ(h.reg(kIrqStatus), kIrqDone);
        h.set_reg(kIrqStatus, kIrqDone);
        h.settle();
        EXPECT_FALSE(h.irq.read());
        EXPECT_EQ(h.reg(kIrqStatus), 0u);
        EXPECT_EQ(h.reg(kStatus), kStatusDone) << "clearing the IRQ leaves STATUS alone";

        // Masked: the status bit is set, the line stays low until enabled.
        start_list(h, kList, 1, 0);
        h.pause(us(5));
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        EXPECT_EQ(h.reg(kIrqStatus), kIrqDone);
        EXPECT_FALSE(h.irq.read());
        h.set_reg(kIrqEnable, kIrqDone);
        h.settle();
        EXPECT_TRUE(h.irq.read());
        h.set_reg(kIrqEnable, kIrqError);
        h.settle();
        EXPECT_FALSE(h.irq.read());
    });
}

TEST(Controller, StartWhileBusyIsIgnored) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.put_list(kList, {make_dma(copy(0x100000, p.sram_base, 64 * kKiB)), make_dma(copy(0x100000, p.sram_base, 64 * kKiB))});
    p.run([&](Host& h) {
        start_list(h, kList, 2);
        h.pause(us(2));
        ASSERT_EQ(h.reg(kStatus), kStatusBusy);
        h.set_reg(kCtrl, kCtrlStart);
        EXPECT_EQ(h.reg(kPerfCommands), 0u) << "PERF registers are zeroed by START and set at the end";
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        h.set_reg(kIrqStatus, kIrqDone);
        h.pause(us(50));
        EXPECT_FALSE(h.irq.read()) << "no second run";
        EXPECT_EQ(h.reg(kPerfDmaCommands), 2u);
    });
    EXPECT_EQ(p.dma.counters().descriptors, 2u);
}

TEST(Controller, SoftResetClearsStatusErrorAndIrq) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 1}});
    Platform p;
    p.put_list(kList, {bad_opcode()});
    p.run([&](Host& h) {
        start_list(h, kList, 1);
        ASSERT_TRUE(h.wait_irq());
        ASSERT_EQ(h.reg(kStatus), kStatusError);
        h.set_reg(kCtrl, kCtrlSoftReset);
        h.settle();
        EXPECT_EQ(h.reg(kStatus), 0u);
        EXPECT_EQ(h.reg(kError), 0u);
        EXPECT_EQ(h.reg(kErrorIndex), 0u);
        EXPECT_EQ(h.reg(kIrqStatus), 0u);
        EXPECT_FALSE(h.irq.read());
        EXPECT_EQ(h.reg(kCmdCount), 1u) << "configuration registers survive a soft reset";
    });
}

TEST(Controller, SoftResetWhileBusyStopsTheList) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    std::vector<Command> cmds(20, make_dma(copy(0x100000, p.sram_base, 64 * kKiB)));
    p.put_list(kList, cmds);
    p.run([&](Host& h) {
        start_list(h, kList, 20);
        h.pause(us(10));
        ASSERT_EQ(h.reg(kStatus), kStatusBusy);
        h.set_reg(kCtrl, kCtrlSoftReset);
        for (int i = 0; i < 100 && (h.reg(kStatus) & kStatusBusy); ++i) {
            h.pause(us(1));
        }
        EXPECT_EQ(h.reg(kStatus), 0u) << "stopped: neither DONE nor ERROR";
        EXPECT_EQ(h.reg(kIrqStatus), 0u);
        EXPECT_FALSE(h.wait_irq(us(200)));
    });
    EXPECT_GE(p.dma.counters().descriptors, 1u);
    EXPECT_LT(p.dma.counters().descriptors, 5u);
}

// --- timing ---

TEST(Controller, TileRunsOverlapUntilAFence) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    tlmx::TransactionLog log;
    log.enable(true);
    log.keep_records(true);
    p.router.set_log(&log);
    p.put_list(kList, {make_tile_run(p.amap.tile_regs(0), 100, 0), make_tile_run(p.amap.tile_regs(1), 100, 100),
                       make_fence(), make_reg_write(p.sram_base, 9), Command{}});
    p.run([&](Host& h) {
        start_list(h, kList, 5);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kStatus), kStatusDone);
        EXPECT_EQ(h.reg(kPerfTileRuns), 2u);
        EXPECT_EQ(h.reg(kPerfCommands), 5u);
        const std::uint64_t cycles = perf_cycles(h);
        EXPECT_GE(cycles, 10000u) << "a fence waits for the tiles";
        EXPECT_LT(cycles, 11000u) << "two 10 us tile runs overlap";
    });
    ASSERT_EQ(p.tile0.starts.size(), 1u);
    ASSERT_EQ(p.tile1.starts.size(), 1u);
    EXPECT_EQ(p.tile1.starts[0] - p.tile0.starts[0], ns(4)) << "the second tile starts one decode after the first";
    const sc_time tiles_done = std::max(p.tile0.ends[0], p.tile1.ends[0]);
    bool saw_write = false;
    for (const tlmx::TransactionRecord& r : log.records()) {
        if (r.target == "sram" && r.command == tlm::TLM_WRITE_COMMAND) {
            saw_write = true;
            EXPECT_GE(r.time, tiles_done) << "the register write after the fence waits for both tiles";
        }
    }
    EXPECT_TRUE(saw_write);
    EXPECT_EQ(p.sram_word(0), 9u);
}

TEST(Controller, EndOfListIsAnImplicitFence) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.put_list(kList, {make_tile_run(p.amap.tile_regs(0), 50, 0)});
    p.run([&](Host& h) {
        start_list(h, kList, 1);
        const sc_time started = h.now();
        ASSERT_TRUE(h.wait_irq());
        EXPECT_GE(sc_core::sc_time_stamp(), p.tile0.ends.at(0));
        EXPECT_GE(sc_core::sc_time_stamp() - started, ns(5000));
        EXPECT_GE(perf_cycles(h), 5000u);
    });
}

TEST(Controller, TileErrorOrUnmappedTileFailsWithCode4) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/controller", 2}, {"/cimvp/router", 1}});
    Platform p;
    p.put_list(kList, {make_tile_run(p.amap.tile_regs(0), 0, 0)});  // the fake tile rejects 0 vectors
    p.put_list(0x2000, {make_reg_write(p.sram_base, 1), make_tile_run(0x3000'0000, 10, 0)});
    p.run([&](Host& h) {
        start_list(h, kList, 1);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kError), code(ControllerError::kTile));
        EXPECT_EQ(h.reg(kErrorIndex), 0u);
        h.set_reg(kIrqStatus, kIrqError);
        start_list(h, 0x2000, 2);
        ASSERT_TRUE(h.wait_irq());
        EXPECT_EQ(h.reg(kError), code(ControllerError::kTile));
        EXPECT_EQ(h.reg(kErrorIndex), 1u);
        EXPECT_EQ(h.reg(kPerfTileRuns), 0u);
    });
}

TEST(Controller, DmaBlocksAndSimulatedTimeIsPlausible) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.put_list(kList, {make_dma(copy(0x100000, p.sram_base, 64 * kKiB)), make_reg_write(p.sram_base + 70000, 3)});
    p.run([&](Host& h) {
        start_list(h, kList, 2);
        const sc_time started = h.now();
        ASSERT_TRUE(h.wait_irq());
        const sc_time took = sc_core::sc_time_stamp() - started;
        const double dram_ns = 64 * kKiB / p.cfg.platform.dram.bytes_per_ns;  // 5120 ns
        EXPECT_GE(took, ns(dram_ns));
        EXPECT_LT(took, ns(2 * dram_ns));
        EXPECT_GE(perf_cycles(h), static_cast<std::uint64_t>(dram_ns));
        EXPECT_EQ(perf_cycles(h), static_cast<std::uint64_t>(std::ceil(took / ns(p.cfg.digital.clock_ns))));
    });
    EXPECT_EQ(std::memcmp(p.sram.data(), p.dram.data() + 0x100000, 64 * kKiB), 0);
    EXPECT_EQ(p.sram_word(70000), 3u);
}

}  // namespace
