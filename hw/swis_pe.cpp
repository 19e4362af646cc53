#include "hw/swis_pe.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace cimvp {

namespace {

constexpr int kMaxShifts = swis::kShiftPositions;  // N is 0..8
constexpr int kShiftMask = (1 << swis::kShiftBits) - 1;

}  // namespace

SwisRecord pack_swis_record(const swis::Group& g) {
    SwisRecord r{};
    r[0] = static_cast<std::uint8_t>((g.n & 0x0F) | (g.sign & 0x0F) << 4);
    for (int i = 0; i < swis::kGroupSize; ++i) r[1 + i] = g.mask[i];
    std::uint32_t shifts = 0;
    for (int j = 0; j < kMaxShifts; ++j) shifts |= static_cast<std::uint32_t>(g.shift[j] & kShiftMask) << (3 * j);
    r[5] = static_cast<std::uint8_t>(shifts);
    r[6] = static_cast<std::uint8_t>(shifts >> 8);
    r[7] = static_cast<std::uint8_t>(shifts >> 16);
    return r;
}

bool unpack_swis_record(const std::uint8_t* rec, swis::Group& g) {
    g.n = rec[0] & 0x0F;
    g.sign = rec[0] >> 4;
    if (g.n > kMaxShifts) return false;
    const unsigned used = (1u << g.n) - 1;
    for (int i = 0; i < swis::kGroupSize; ++i) {
        g.mask[i] = rec[1 + i];
        if (g.mask[i] & ~used) return false;
    }
    std::fill(g.mask.begin() + swis::kGroupSize, g.mask.end(), std::uint8_t{0});  // a record holds 4 lanes
    const std::uint32_t shifts = rec[5] | std::uint32_t{rec[6]} << 8 | std::uint32_t{rec[7]} << 16;
    for (int j = 0; j < kMaxShifts; ++j) g.shift[j] = static_cast<std::uint8_t>((shifts >> (3 * j)) & kShiftMask);
    return true;
}

bool int8_group(const std::int8_t* w, int msb, int n, swis::Group& g) { return swis::window_group(w, msb, n, g); }

SwisPe::SwisPe(PeMode mode, int act_bits) : mode_(mode), act_bits_(act_bits) { configure(mode, act_bits); }

void SwisPe::configure(PeMode mode, int act_bits) {
    if (!valid_pe_mode(static_cast<std::uint32_t>(mode))) throw std::invalid_argument("SwisPe: unknown mode");
    if (act_bits < 0 || act_bits > kActivationBits) throw std::invalid_argument("SwisPe: act_bits outside 0..8");
    mode_ = mode;
    act_bits_ = act_bits;
    clear();
}

int SwisPe::cycles(const swis::Group& g) const {
    return pe_cycles_per_group(mode_, mode_ == PeMode::kActSerial ? act_bits_ : g.n);
}

std::int64_t SwisPe::masked_sum(const std::uint8_t* a, const swis::Group& g, int j) {
    std::int64_t s = 0;
    for (int i = 0; i < kLanes; ++i) {
        // AND with the replicated mask bit, then the conditional sign inversion.
        const std::int64_t v = a[i] & -static_cast<int>(g.mask[i] >> j & 1);
        s += (g.sign >> i & 1) ? -v : v;
    }
    return s;
}

bool SwisPe::step(const std::uint8_t* a, const swis::Group& g) {
    const int total = cycles(g);
    if (phase_ >= total) {  // a 0-cycle group
        phase_ = 0;
        return true;
    }
    switch (mode_) {
        case PeMode::kSingleShift:
        case PeMode::kWgtSerial:
            acc_ += masked_sum(a, g, phase_) * (std::int64_t{1} << g.shift[phase_]);
            break;
        case PeMode::kDoubleShift: {
            const int j = 2 * phase_;
            acc_ += masked_sum(a, g, j) * (std::int64_t{1} << g.shift[j]);
            if (j + 1 < g.n) acc_ += masked_sum(a, g, j + 1) * (std::int64_t{1} << g.shift[j + 1]);
            break;
        }
        case PeMode::kActSerial: {
            if (phase_ == 0)
                for (int i = 0; i < kLanes; ++i) w_[i] = g.weight(i);
            const int bit = kActivationBits - 1 - phase_;  // MSB first: the top act_bits bits
            std::int64_t s = 0;
            for (int i = 0; i < kLanes; ++i) s += (a[i] >> bit & 1) ? w_[i] : 0;
            acc_ += s * (std::int64_t{1} << bit);
            break;
        }
        case PeMode::kFixedPoint: {
            std::int64_t s = 0;
            for (int i = 0; i < kLanes; ++i) s += std::int64_t{a[i]} * g.weight(i);
            acc_ += s;
            break;
        }
    }
    if (++phase_ < total) return false;
    phase_ = 0;
    return true;
}

int SwisPe::run_group(const std::uint8_t* a, const swis::Group& g) {
    const int total = cycles(g);
    while (!step(a, g)) {
    }
    return total;
}

}  // namespace cimvp
