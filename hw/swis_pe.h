// One processing element of the SWIS PE array (arXiv 2103.01308 section 3.1):
// M = 4 lanes of 8-bit activations against one weight group in SWIS form
// (sw/contract/swis.h Group: a sign per weight, N shared shift positions, a mask bit per
// weight and shift). Per cycle the lanes AND the activations with the mask
// bits, apply the signs, sum in an adder tree, barrel-shift the sum and add it
// into the accumulator: one shift per cycle (single-shift, SS) or two (DS).
// The same PE also runs the paper's baselines (bit-serial activations "Act",
// bit-serial weights "Wgt", 8-bit fixed point "FXP"). Plain C++: the cycle
// behaviour an RTL twin mirrors, and the arithmetic the array model calls.
#pragma once

#include <array>
#include <cstdint>

#include "sw/contract/pe_mode.h"
#include "sw/contract/swis.h"

namespace cimvp {

// Weight records as the array reads them from memory (docs/registers.md "SWIS PE array").
// SWIS record, 8 bytes: byte 0 = n in bits 3:0, sign in bits 7:4 (bit 4 + i: weight i
// negative); bytes 1..4 = mask[0..3]; bytes 5..7 = the shifts, 24 bits little-endian,
// shift j in bits [3j, 3j + 3) (kSwisRecordBytes, sw/contract/pe_mode.h). Int8 record, 4 bytes: the four weights.
constexpr int kInt8RecordBytes = swis::kGroupSize;
constexpr int record_bytes(PeMode m) {
    return m == PeMode::kSingleShift || m == PeMode::kDoubleShift ? kSwisRecordBytes : kInt8RecordBytes;
}

using SwisRecord = std::array<std::uint8_t, kSwisRecordBytes>;
SwisRecord pack_swis_record(const swis::Group& g);
// False when n > 8 or a mask has a bit at or above n (the record is not a group).
bool unpack_swis_record(const std::uint8_t* rec, swis::Group& g);

// An int8 group in sign-magnitude as a PE group over the bit positions msb, msb-1, ..,
// msb-n+1 (shift j = msb - j, mask bit j = bit msb - j of |w|). False when a weight has a
// magnitude bit outside that window. msb 7, n 8 represents every int8 exactly (-128 too).
bool int8_group(const std::int8_t* w, int msb, int n, swis::Group& g);

class SwisPe {
public:
    static constexpr int kLanes = swis::kGroupSize;
    static constexpr int kActivationBits = 8;

    // act_bits: kActSerial only, the activation bits processed per group (0..8).
    explicit SwisPe(PeMode mode = PeMode::kSingleShift, int act_bits = kActivationBits);

    // Changes the form and clears the accumulator.
    void configure(PeMode mode, int act_bits = kActivationBits);
    PeMode mode() const { return mode_; }
    int act_bits() const { return act_bits_; }

    // Accumulator to 0; the next step starts a new group.
    void clear() {
        acc_ = 0;
        phase_ = 0;
    }
    // Cycles `g` takes in this form (SS/Wgt g.n, DS ceil(g.n / 2), Act act_bits, FXP 1).
    int cycles(const swis::Group& g) const;

    // One clock on group `g` with activations a[0..3] (the same group and activations
    // on every call until it returns true). Returns true when that was the group's last
    // cycle; the next call starts the next group. A group of 0 cycles returns true at
    // once and changes nothing.
    bool step(const std::uint8_t* a, const swis::Group& g);
    // Steps `g` to its end; returns the cycles it took.
    int run_group(const std::uint8_t* a, const swis::Group& g);

    std::int64_t acc() const { return acc_; }
    int phase() const { return phase_; }  // cycles into the current group

private:
    // The adder tree's output for shift j: sum over lanes of +-a_i where mask bit j is set.
    static std::int64_t masked_sum(const std::uint8_t* a, const swis::Group& g, int j);

    PeMode mode_;
    int act_bits_;
    std::int64_t acc_ = 0;
    int phase_ = 0;
    std::array<int, kLanes> w_{};  // Act: the group's weights, loaded on its first cycle
};

}  // namespace cimvp
