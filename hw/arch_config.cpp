// Platform memory defaults. The blocks' defaults sit next to their fields in
// arch_config.h; the memories share one struct, so theirs are set here.
// Sources for every number: docs/config.md.
#include "hw/arch_config.h"

namespace cimvp {

namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;

// Horowitz, ISSCC 2014: DRAM 1.3-2.6 nJ per 64-bit access -> low end / 8 bytes.
constexpr double kDramPjPerByte = 160.0;
// Horowitz, ISSCC 2014: 8 KB SRAM, 64-bit access ~10 pJ -> 10 / 8 bytes.
constexpr double kSramPjPerByte = 1.25;
// Horowitz, ISSCC 2014: 1 MB SRAM, 64-bit access ~100 pJ -> 100 / 8 bytes.
constexpr double kGlobalBufferPjPerByte = 12.5;

MemoryConfig sram(std::uint64_t size_bytes) {
    MemoryConfig m;
    m.size_bytes = size_bytes;
    m.latency_ns = 1.0;     // one 1 GHz clock
    m.bytes_per_ns = 64.0;  // 64-byte port at 1 GHz
    m.read_pj_per_byte = kSramPjPerByte;
    m.write_pj_per_byte = kSramPjPerByte;
    m.dmi = true;
    return m;
}

}  // namespace

ArchConfig::ArchConfig() {
    platform.dram.size_bytes = 256 * kMiB;
    platform.dram.latency_ns = 50.0;
    platform.dram.bytes_per_ns = 12.8;  // DDR4-1600, 64-bit channel
    platform.dram.read_pj_per_byte = kDramPjPerByte;
    platform.dram.write_pj_per_byte = kDramPjPerByte;
    platform.dram.dmi = true;

    platform.input_buffer = sram(16 * kKiB);
    platform.output_buffer = sram(32 * kKiB);
    platform.global_buffer = sram(1 * kMiB);
    platform.global_buffer.latency_ns = 2.0;  // two 1 GHz clocks: a larger array than the tile buffers
    platform.global_buffer.read_pj_per_byte = kGlobalBufferPjPerByte;
    platform.global_buffer.write_pj_per_byte = kGlobalBufferPjPerByte;
}

}  // namespace cimvp
