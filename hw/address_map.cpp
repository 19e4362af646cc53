#include "hw/address_map.h"

namespace cimvp {

namespace {
std::uint64_t next_pow2(std::uint64_t v) {
    std::uint64_t p = 1;
    while (p < v) p <<= 1;
    return p;
}
}  // namespace

AddressMap::AddressMap(const ArchConfig& cfg)
    : dram_size_(cfg.platform.dram.size_bytes), global_buffer_size_(cfg.platform.global_buffer.size_bytes) {
    const auto& xb = cfg.crossbar;
    tw_.crossbar_size = static_cast<std::uint64_t>(xb.rows) * xb.cols;
    tw_.adc_size = static_cast<std::uint64_t>(xb.cols) * kAdcEntryBytes;
    tw_.input_banks = cfg.platform.ping_pong ? 2 : 1;
    tw_.input_bank_size = cfg.platform.input_buffer.size_bytes;
    tw_.input_size = tw_.input_bank_size * static_cast<std::uint64_t>(tw_.input_banks);
    tw_.output_size = cfg.platform.output_buffer.size_bytes;
    tw_.scale_size = static_cast<std::uint64_t>(xb.cols) * kAccEntryBytes;
    tw_.output_window = 2 * tw_.output_size + tw_.scale_size;
    std::uint64_t at = 0;
    tw_.regs = at;
    at = align_up(at + kMmioWindow, kWindowAlign);
    tw_.crossbar = at;
    at = align_up(at + tw_.crossbar_size, kWindowAlign);
    tw_.adc = at;
    at = align_up(at + tw_.adc_size, kWindowAlign);
    tw_.input = at;
    at = align_up(at + tw_.input_size, kWindowAlign);
    tw_.output = at;
    at = align_up(at + tw_.output_window, kWindowAlign);
    tw_.stride = next_pow2(at);
}

}  // namespace cimvp
