// Memory and DMA: timing annotation, bus errors, DMI through the router, and
// the DMA's 1D/2D copies and error codes. Each TEST elaborates its own
// platform slice and runs in its own process (ctest).
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/address_map.h"
#include "hw/command_format.h"
#include "hw/controller.h"
#include "hw/dma.h"
#include "hw/memory.h"
#include "hw/arch_config.h"
#include "sw/contract/im2col.h"
#include "testbench/sc_test_host.h"
#include "testbench/sc_test_support.h"
#include "tlm/router.h"
#include "tlm/timed_initiator.h"

namespace {

using namespace cimvp;
using sc_core::sc_time;
using sc_core::SC_NS;
using Host = cimvp::test::BusHost;
using cimvp::test::QuantumSetup;

constexpr std::uint64_t kKiB = 1024;

sc_time ns(double v) { return sc_time(v, SC_NS); }

ArchConfig test_config() {
    ArchConfig cfg;  // DRAM: 256 MiB, 50 ns, 12.8 B/ns; buffers: 1 ns, 64 B/ns
    cfg.platform.input_buffer.size_bytes = 128 * kKiB;
    return cfg;
}

// Router + DRAM + SRAM (at tile 0's input buffer) + DMA + controller + host, with a protocol
// checker on every router link (tlm/protocol_checker.h): a broken TLM rule fails the test.
struct Platform {
    QuantumSetup quantum{ns(1000)};
    ArchConfig cfg = test_config();
    AddressMap amap{cfg};
    tlmx::Router router{"router", /*check_protocol=*/true};
    Memory dram{"dram", cfg.platform.dram};
    Memory sram{"sram", cfg.platform.input_buffer};
    Dma dma{"dma", cfg.dma};
    Controller ctrl{"ctrl", cfg.digital, kDmaBase};
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
        ctrl.irq(irq);
        host.irq(irq);
    }

    void put_descriptor(std::uint64_t dram_addr, const DmaDescriptor& d) {
        std::memcpy(dram.data() + dram_addr, &d, sizeof d);
    }
    // Programs and starts the DMA from the host; returns the time the START write took.
    sc_time run_dma(Host& h, std::uint64_t desc_addr) {
        h.wr32(kDmaBase + dma_regs::kDescAddrLo, static_cast<std::uint32_t>(desc_addr));
        h.wr32(kDmaBase + dma_regs::kDescAddrHi, static_cast<std::uint32_t>(desc_addr >> 32));
        const sc_time before = h.now();
        h.wr32(kDmaBase + dma_regs::kCtrl, dma_regs::kCtrlStart);
        return h.now() - before;
    }
};

void fill_pattern(std::uint8_t* p, std::size_t n, std::uint32_t seed) {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

long resident_kib() {
    std::ifstream f("/proc/self/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            long kib = 0;
            f >> kib;
            return kib;
        }
        f.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return -1;
}

// A host bound straight to one memory, no router.
struct MemoryBench {
    QuantumSetup quantum{ns(1000)};
    Memory mem;
    Host host{"host"};
    sc_core::sc_signal<bool> irq{"irq"};
    explicit MemoryBench(const MemoryConfig& cfg) : mem("mem", cfg) {
        host.socket.bind(mem.socket);
        host.irq(irq);
    }
};

// --- Memory ---

TEST(Memory, AnnotatesLatencyPlusBytesOverBandwidth) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const ArchConfig cfg;
    MemoryBench b(cfg.platform.dram);  // 50 ns, 12.8 B/ns, 160 pJ/B
    b.host.simulate([&](Host& h) {
        std::vector<std::uint8_t> buf(1280, 0x5a);
        sc_time delay = ns(10);
        ASSERT_EQ(h.raw(tlm::TLM_WRITE_COMMAND, 0x1000, buf.data(), 64, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, ns(10 + 50 + 5));
        delay = sc_core::SC_ZERO_TIME;
        ASSERT_EQ(h.raw(tlm::TLM_READ_COMMAND, 0x1000, buf.data(), 1280, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(delay, ns(50 + 100));
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME) << "a loosely-timed memory never waits";
        EXPECT_EQ(buf[0], 0x5a);
        EXPECT_EQ(buf[64], 0x00) << "calloc'd memory reads zero";
    });
    const Memory::Counters& c = b.mem.counters();
    EXPECT_EQ(c.reads, 1u);
    EXPECT_EQ(c.writes, 1u);
    EXPECT_EQ(c.bytes_read, 1280u);
    EXPECT_EQ(c.bytes_written, 64u);
    EXPECT_DOUBLE_EQ(b.mem.energy_pj(), (1280 + 64) * 160.0);
    b.mem.reset_counters();
    EXPECT_EQ(b.mem.counters().reads, 0u);
    EXPECT_DOUBLE_EQ(b.mem.energy_pj(), 0.0);
}

TEST(Memory, RejectsOutOfBoundsByteEnablesAndStreaming) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/memory", 5}});
    MemoryConfig cfg;
    cfg.size_bytes = 4096;
    cfg.latency_ns = 2;
    cfg.bytes_per_ns = 8;
    MemoryBench b(cfg);
    b.host.simulate([&](Host& h) {
        std::uint8_t buf[16] = {};
        sc_time delay;
        EXPECT_EQ(h.raw(tlm::TLM_READ_COMMAND, 4096 - 4, buf, 8, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(h.raw(tlm::TLM_WRITE_COMMAND, 4096, buf, 1, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(h.raw(tlm::TLM_READ_COMMAND, ~std::uint64_t{0} - 3, buf, 8, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE)
            << "address + length wrapping past 2^64 must not pass the bounds check";
        unsigned char be[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        EXPECT_EQ(h.raw(tlm::TLM_WRITE_COMMAND, 0, buf, 8, delay, 0, be), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        EXPECT_EQ(h.raw(tlm::TLM_WRITE_COMMAND, 0, buf, 8, delay, 4), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(delay, sc_core::SC_ZERO_TIME) << "rejected accesses take no time";
        EXPECT_EQ(h.raw(tlm::TLM_IGNORE_COMMAND, 0, buf, 8, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(h.raw(tlm::TLM_READ_COMMAND, 4096 - 8, buf, 8, delay), tlm::TLM_OK_RESPONSE) << "last 8 bytes";
        EXPECT_EQ(delay, ns(2 + 1));
    });
    EXPECT_EQ(b.mem.counters().reads, 1u);
    EXPECT_EQ(b.mem.counters().writes, 0u);
}

TEST(Memory, LargeDramIsLazyAndDebugTransportIsTruncated) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const long rss_before = resident_kib();
    const ArchConfig cfg;
    MemoryBench b(cfg.platform.dram);
    ASSERT_EQ(b.mem.size(), 256 * kKiB * kKiB);
    b.mem.data()[b.mem.size() - 1] = 0x77;
    const long rss_after = resident_kib();
    ASSERT_GT(rss_before, 0);
    EXPECT_LT(rss_after - rss_before, 32 * 1024) << "256 MiB of DRAM must not be touched up front";
    b.host.simulate([&](Host& h) {
        std::uint8_t buf[16];
        std::memset(buf, 0xcc, sizeof buf);
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(b.mem.size() - 4);
        t.set_data_ptr(buf);
        t.set_data_length(16);
        EXPECT_EQ(h.socket->transport_dbg(t), 4u);
        EXPECT_EQ(buf[3], 0x77);
        EXPECT_EQ(buf[4], 0xcc);
        const std::uint8_t w[2] = {1, 2};
        t.set_command(tlm::TLM_WRITE_COMMAND);
        t.set_address(100);
        t.set_data_ptr(const_cast<std::uint8_t*>(w));
        t.set_data_length(2);
        EXPECT_EQ(h.socket->transport_dbg(t), 2u);
        t.set_address(b.mem.size());
        EXPECT_EQ(h.socket->transport_dbg(t), 0u);
    });
    EXPECT_EQ(b.mem.data()[101], 2);
    EXPECT_EQ(b.mem.counters().writes + b.mem.counters().reads, 0u) << "debug accesses are not counted";
}

TEST(Memory, GrantsWholeArrayDmiThroughTheRouter) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    p.host.simulate([&](Host& h) {
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(p.sram_base + 100);
        tlm::tlm_dmi dmi;
        ASSERT_TRUE(h.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(dmi.get_start_address(), p.sram_base);
        EXPECT_EQ(dmi.get_end_address(), p.sram_base + p.sram.size() - 1);
        EXPECT_EQ(dmi.get_dmi_ptr(), p.sram.data());
        EXPECT_TRUE(dmi.is_read_write_allowed());
        EXPECT_EQ(dmi.get_read_latency(), ns(1));
        EXPECT_EQ(dmi.get_write_latency(), ns(1));
        dmi.get_dmi_ptr()[200] = 0xab;
        EXPECT_EQ(h.rd32(p.sram_base + 200) & 0xff, 0xabu);

        // The shared initiator caches the grant and then charges only the DMI latency.
        h.bus.use_dmi(true);
        h.rd32(p.sram_base);
        ASSERT_EQ(h.bus.dmi_regions(), 1u);
        const std::uint64_t reads = p.sram.counters().reads;
        const sc_time before = h.now();
        h.rd32(p.sram_base + 4096);
        EXPECT_EQ(h.now() - before, ns(1));
        EXPECT_EQ(p.sram.counters().reads, reads) << "a DMI access bypasses the bus";

        // A descriptor goes into each request in its initial state (IEEE 1666-2011 11.2.5), not as the
        // last grant left it: the checker on the host's link reports one that is not.
        dmi.init();
        t.set_address(kDmaBase);
        EXPECT_FALSE(h.socket->get_direct_mem_ptr(t, dmi)) << "registers grant no DMI";
    });
    // Three requests (two to the SRAM, one to the DMA's registers), each on the host's link and its target's.
    EXPECT_EQ(p.router.protocol_counts().dmi_requests, 6u);
    EXPECT_EQ(p.router.protocol_counts().violations, 0u);
}

TEST(Memory, DeniesDmiWhenConfiguredOff) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    MemoryConfig cfg;
    cfg.size_bytes = 8192;
    cfg.dmi = false;
    MemoryBench b(cfg);
    b.host.simulate([&](Host& h) {
        std::uint8_t buf[4];
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(16);
        t.set_data_ptr(buf);
        t.set_data_length(4);
        t.set_streaming_width(4);
        sc_time delay;
        b.host.socket->b_transport(t, delay);
        EXPECT_TRUE(t.is_response_ok());
        EXPECT_FALSE(t.is_dmi_allowed());
        tlm::tlm_dmi dmi;
        EXPECT_FALSE(h.socket->get_direct_mem_ptr(t, dmi));
        EXPECT_EQ(dmi.get_granted_access(), tlm::tlm_dmi::DMI_ACCESS_NONE);
    });
}

// --- DMA ---

TEST(Dma, RegistersIdentifyAndCheckAccess) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/dma", 4}});
    Platform p;
    p.host.simulate([&](Host& h) {
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kId), dma_regs::kIdValue);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), 0u);
        EXPECT_EQ(h.bus.write32(kDmaBase + dma_regs::kId, 1), tlm::TLM_COMMAND_ERROR_RESPONSE);
        std::uint32_t v = 0;
        EXPECT_EQ(h.bus.read32(kDmaBase + dma_regs::kCtrl, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
        std::uint16_t half = 0;
        EXPECT_EQ(h.bus.read(kDmaBase + dma_regs::kId, &half, 2), tlm::TLM_BURST_ERROR_RESPONSE);
        EXPECT_EQ(h.bus.read32(kDmaBase + 0x20, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        h.wr32(kDmaBase + dma_regs::kDescAddrLo, 0x12345678);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kDescAddrLo), 0x12345678u);
    });
}

TEST(Dma, Copies1DFromDramToSramInBursts) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    constexpr std::uint32_t kBytes = 10000;  // bursts of 4096, 4096, 1808
    fill_pattern(p.dram.data() + 0x10000, kBytes, 1);
    DmaDescriptor d;
    d.src = 0x10000;
    d.dst = p.sram_base + 0x100;
    d.row_bytes = kBytes;
    d.rows = 1;
    p.put_descriptor(0x1000, d);
    p.host.simulate([&](Host& h) {
        p.dram.reset_counters();
        const sc_time took = p.run_dma(h, 0x1000);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), dma_regs::kStatusDone);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kError), 0u);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kBytesLo), kBytes);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kBytesHi), 0u);
        // setup + per burst max(DRAM read, SRAM write, engine): DRAM bounds each burst.
        EXPECT_EQ(took, ns(20 + 2 * (50 + 4096 / 12.8) + (50 + 1808 / 12.8)));
    });
    EXPECT_EQ(std::memcmp(p.sram.data() + 0x100, p.dram.data() + 0x10000, kBytes), 0);
    EXPECT_EQ(p.sram.data()[0xff], 0);
    EXPECT_EQ(p.sram.data()[0x100 + kBytes], 0);
    EXPECT_EQ(p.dma.counters().descriptors, 1u);
    EXPECT_EQ(p.dma.counters().bytes, kBytes);
    EXPECT_EQ(p.dma.counters().errors, 0u);
    EXPECT_DOUBLE_EQ(p.dma.energy_pj(), kBytes * p.cfg.dma.pj_per_byte);
    EXPECT_EQ(p.dram.counters().reads, 1u + 3u) << "descriptor + three bursts";
    EXPECT_EQ(p.dram.counters().bytes_read, sizeof(DmaDescriptor) + kBytes);
    EXPECT_EQ(p.sram.counters().writes, 3u);
    p.dma.reset_counters();
    EXPECT_EQ(p.dma.registers().get(dma_regs::kBytesLo), 0u);
}

TEST(Dma, Copies2DStridedAndLeavesGapsUntouched) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    DmaDescriptor d;
    d.src = 0x20000;
    d.dst = p.sram_base + 0x40;
    d.row_bytes = 100;
    d.rows = 8;
    d.src_stride = 256;
    d.dst_stride = 160;
    fill_pattern(p.dram.data() + d.src, 8 * 256, 2);
    std::memset(p.sram.data(), 0xee, p.sram.size());
    p.put_descriptor(0x1000, d);
    p.host.simulate([&](Host& h) {
        p.run_dma(h, 0x1000);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), dma_regs::kStatusDone);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kBytesLo), 800u);
    });
    const std::uint8_t* dst = p.sram.data() + 0x40;
    for (int r = 0; r < 8; ++r) {
        EXPECT_EQ(std::memcmp(dst + r * 160, p.dram.data() + d.src + r * 256, 100), 0) << "row " << r;
        for (int g = 100; g < 160; ++g) ASSERT_EQ(dst[r * 160 + g], 0xee) << "gap after row " << r << " byte " << g;
    }
    for (int i = 0; i < 0x40; ++i) ASSERT_EQ(p.sram.data()[i], 0xee);
    EXPECT_EQ(p.sram.counters().writes, 8u) << "one burst per row";
}

TEST(Dma, OutOfBoundsSourceAndDestinationEndInError) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/dma", 5}, {"/cimvp/router", 5}});
    Platform p;
    DmaDescriptor src_oob;
    src_oob.src = p.dram.size() - 50;
    src_oob.dst = p.sram_base;
    src_oob.row_bytes = 100;
    p.put_descriptor(0x1000, src_oob);
    DmaDescriptor dst_oob;  // three bursts; the third runs past the SRAM's end
    dst_oob.src = 0x10000;
    dst_oob.dst = p.sram_base + p.sram.size() - 8192 - 10;
    dst_oob.row_bytes = 8192 + 100;
    p.put_descriptor(0x1040, dst_oob);
    DmaDescriptor dst_unmapped;
    dst_unmapped.src = 0x10000;
    dst_unmapped.dst = 0x3000'0000;  // between DRAM and the registers
    dst_unmapped.row_bytes = 64;
    p.put_descriptor(0x1080, dst_unmapped);
    p.host.simulate([&](Host& h) {
        using namespace dma_regs;
        p.run_dma(h, 0x1000);
        EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusError);
        EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kSourceRead));
        EXPECT_EQ(h.rd32(kDmaBase + kBytesLo), 0u);

        p.run_dma(h, 0x1040);
        EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusError);
        EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kDestinationWrite));
        EXPECT_EQ(h.rd32(kDmaBase + kBytesLo), 8192u) << "the two bursts before the failing one were moved";

        p.run_dma(h, 0x1080);
        EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kDestinationWrite));

        p.run_dma(h, 0x3000'0000);  // descriptor itself unmapped
        EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusError);
        EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kDescriptorFetch));
        p.run_dma(h, 0xffff'ffff'ffff'fff0ull);  // and wrapping past 2^64
        EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kDescriptorFetch));
    });
    EXPECT_EQ(p.dma.counters().descriptors, 5u);
    EXPECT_EQ(p.dma.counters().errors, 5u);
}

TEST(Dma, RejectsBadDescriptorsAndRecovers) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    const cimvp::test::ExpectScWarnings reports({{"/cimvp/dma", 5}});
    Platform p;
    DmaDescriptor good;
    good.src = 0x10000;
    good.dst = p.sram_base;
    good.row_bytes = 64;
    good.rows = 4;
    good.src_stride = 64;
    good.dst_stride = 128;
    std::vector<DmaDescriptor> bad(5, good);
    bad[0].rows = 0;
    bad[1].row_bytes = 0;
    bad[2].src_stride = 32;
    bad[3].dst_stride = 63;
    bad[4].src = ~std::uint64_t{0} - 100;  // the source range wraps past 2^64
    for (std::size_t i = 0; i < bad.size(); ++i) p.put_descriptor(0x1000 + 0x40 * i, bad[i]);
    p.put_descriptor(0x2000, good);
    DmaDescriptor strides_ignored = good;  // one row: the strides do not matter
    strides_ignored.rows = 1;
    strides_ignored.src_stride = 0;
    strides_ignored.dst_stride = 0;
    p.put_descriptor(0x2040, strides_ignored);
    p.host.simulate([&](Host& h) {
        using namespace dma_regs;
        for (std::size_t i = 0; i < bad.size(); ++i) {
            p.run_dma(h, 0x1000 + 0x40 * i);
            EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusError) << "descriptor " << i;
            EXPECT_EQ(h.rd32(kDmaBase + kError), static_cast<std::uint32_t>(DmaError::kBadDescriptor))
                << "descriptor " << i;
        }
        p.run_dma(h, 0x2000);
        EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusDone);
        EXPECT_EQ(h.rd32(kDmaBase + kError), 0u);
        p.run_dma(h, 0x2040);
        EXPECT_EQ(h.rd32(kDmaBase + kStatus), kStatusDone);
    });
    EXPECT_EQ(p.dma.counters().errors, 5u);
    EXPECT_EQ(p.dma.counters().bytes, 4u * 64 + 64);
}

TEST(Dma, Copy64KiBTakesAtLeastTheDramTransferTime) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    constexpr std::uint32_t kBytes = 64 * kKiB;
    fill_pattern(p.dram.data() + 0x100000, kBytes, 3);
    DmaDescriptor d;
    d.src = 0x100000;
    d.dst = p.sram_base;
    d.row_bytes = 1024;
    d.rows = 64;
    d.src_stride = 1024;  // contiguous rows: one linear copy
    d.dst_stride = 1024;
    p.put_descriptor(0x1000, d);
    sc_time took, start, end;
    p.host.simulate([&](Host& h) {
        start = h.now();
        took = p.run_dma(h, 0x1000);
        h.bus.sync();
        end = sc_core::sc_time_stamp();
    });
    const sc_time dram_time = ns(kBytes / p.cfg.platform.dram.bytes_per_ns);
    EXPECT_GE(took, dram_time);
    EXPECT_EQ(took, ns(20 + 16 * (50 + 4096 / 12.8)));
    EXPECT_GE(end - start, dram_time) << "the host's simulated time includes the blocking transfer";
    EXPECT_EQ(std::memcmp(p.sram.data(), p.dram.data() + 0x100000, kBytes), 0);
}

// Runs one im2col descriptor (at DRAM 0x1000) on two C x H x W images at DRAM 0x10000 into the SRAM,
// checks every gathered byte against sw/contract/im2col.h and returns the DRAM reads after the descriptor's.
struct GatherReads {
    std::uint64_t reads = 0, bytes = 0;
};
GatherReads run_gather(Platform& p, const ConvShape& s, int first_row, int rows, int first_vector, int vectors) {
    const std::size_t image_bytes = static_cast<std::size_t>(s.channels) * s.height * s.width;
    fill_pattern(p.dram.data() + 0x10000, 2 * image_bytes, 5);
    Im2colDescriptor d;
    d.src = 0x10000;
    d.dst = p.sram_base;
    d.channels = static_cast<std::uint16_t>(s.channels);
    d.height = static_cast<std::uint16_t>(s.height);
    d.width = static_cast<std::uint16_t>(s.width);
    d.kernel_h = d.kernel_w = static_cast<std::uint16_t>(s.kernel);
    d.stride = static_cast<std::uint8_t>(s.stride);
    d.padding = static_cast<std::uint8_t>(s.padding);
    d.first_row = static_cast<std::uint16_t>(first_row);
    d.rows = static_cast<std::uint16_t>(rows);
    d.first_vector = static_cast<std::uint32_t>(first_vector);
    d.vectors = static_cast<std::uint32_t>(vectors);
    std::memcpy(p.dram.data() + 0x1000, &d, sizeof d);
    p.host.simulate([&](Host& h) {
        p.dram.reset_counters();
        h.wr32(kDmaBase + dma_regs::kDescAddrLo, 0x1000);
        h.wr32(kDmaBase + dma_regs::kDescAddrHi, 0);
        h.wr32(kDmaBase + dma_regs::kCtrl, dma_regs::kCtrlStart | dma_regs::kCtrlIm2col);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), dma_regs::kStatusDone);
    });
    const int per_image = s.out_height() * s.out_width();
    const std::vector<std::uint8_t> x0 = im2col(s, p.dram.data() + 0x10000);
    const std::vector<std::uint8_t> x1 = im2col(s, p.dram.data() + 0x10000 + image_bytes);
    for (int i = 0; i < vectors; ++i) {
        const int v = first_vector + i;
        const std::vector<std::uint8_t>& x = v < per_image ? x0 : x1;
        const std::size_t at = static_cast<std::size_t>(v % per_image) * s.patch() + first_row;
        EXPECT_EQ(std::memcmp(p.sram.data() + static_cast<std::size_t>(i) * rows, x.data() + at, rows), 0)
            << "vector " << v;
    }
    return {p.dram.counters().reads - 1, p.dram.counters().bytes_read - sizeof(Im2colDescriptor)};
}

TEST(Dma, Im2colGatherReadsOnlyTheRowsAndChannelsItsVectorsTouch) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    ConvShape s;
    s.channels = 4, s.height = 10, s.width = 9, s.kernel = 3, s.stride = 1, s.padding = 1;  // 10 x 9 outputs
    // Patch rows 9..20: channel 1 (ky 0..2) and channel 2 (ky 0). Vectors 85..104: image 0's output
    // row 9 (input rows 8..9, row 10 is padding) and image 1's output rows 0..1 (input rows 0..2).
    const GatherReads r = run_gather(p, s, 9, 12, 85, 20);
    EXPECT_EQ(r.bytes, 2u * (2 * 9) + 2u * (3 * 9)) << "two channels of 2 rows, then of 3 rows";
    EXPECT_EQ(r.reads, 4u) << "one block per channel and image: none follows another in memory";
}

TEST(Dma, Im2colGatherOfWholePlanesReadsTheImagesAsOneBlock) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    ConvShape s;  // a fully connected layer: the kernel is the image, one vector per image
    s.channels = 3, s.height = 5, s.width = 5, s.kernel = 5, s.stride = 1, s.padding = 0;
    const GatherReads r = run_gather(p, s, 0, 75, 0, 2);
    EXPECT_EQ(r.bytes, 2u * 75);
    EXPECT_EQ(r.reads, 1u) << "both images' planes are one linear block";
}

TEST(Dma, StartArrivingThroughItsOwnBusIsIgnored) {
    CIMVP_REQUIRE_FRESH_SYSTEMC();
    Platform p;
    const std::uint32_t start = dma_regs::kCtrlStart;
    std::memcpy(p.dram.data() + 0x10000, &start, 4);
    DmaDescriptor d;  // writes START into the DMA's own CTRL register
    d.src = 0x10000;
    d.dst = kDmaBase + dma_regs::kCtrl;
    d.row_bytes = 4;
    p.put_descriptor(0x1000, d);
    p.host.simulate([&](Host& h) {
        p.run_dma(h, 0x1000);
        EXPECT_EQ(h.rd32(kDmaBase + dma_regs::kStatus), dma_regs::kStatusDone);
    });
    EXPECT_EQ(p.dma.counters().descriptors, 1u);
}

}  // namespace
