// The CIM tile's register map and error codes (docs/registers.md): shared by
// the tile model and the host-side compiler, so it needs no SystemC.
#pragma once

#include <cstdint>

namespace cimvp {

namespace tile_reg {
constexpr std::uint32_t kId = 0x00;          // RO "TILE"
constexpr std::uint32_t kCtrl = 0x04;        // WO bit0 START
constexpr std::uint32_t kStatus = 0x08;      // RO bit1 DONE, bit2 ERROR
constexpr std::uint32_t kError = 0x0C;       // RO TileError
constexpr std::uint32_t kGeometry = 0x10;    // RO rows [15:0], cols [31:16]
constexpr std::uint32_t kCellBits = 0x14;    // RO
constexpr std::uint32_t kRows = 0x18;        // RW active rows (inputs per vector)
constexpr std::uint32_t kOuts = 0x1C;        // RW outputs
constexpr std::uint32_t kSlices = 0x20;      // RW weight slices per output (per sign with FLAGS.DIFFERENTIAL)
constexpr std::uint32_t kABits = 0x24;       // RW activation bits
constexpr std::uint32_t kDacBits = 0x28;     // RW input bits per read
constexpr std::uint32_t kWeightScale = 0x2C; // RW 1 (offset encoding, differential) or 2 (binary, offset encoded)
constexpr std::uint32_t kOffset = 0x30;      // RW weight offset removed per input
constexpr std::uint32_t kVectors = 0x34;     // RW vectors in the next run
constexpr std::uint32_t kVectorBase = 0x38;  // RW global index of the first (read-noise key)
constexpr std::uint32_t kPerfReads = 0x3C;   // RO array reads since reset
constexpr std::uint32_t kPerfRuns = 0x40;    // RO runs since reset
constexpr std::uint32_t kTileIndex = 0x44;   // RO physical tile number
constexpr std::uint32_t kFlags = 0x48;       // RW bit0 EMIT_SUM: each vector's input sum follows its outputs;
                                             //    bit1 DIFFERENTIAL: an output's columns are SLICES + and SLICES -
constexpr std::uint32_t kInBank = 0x4C;      // RW bit0: the input-buffer bank the next run reads (ping-pong)

constexpr std::uint32_t kIdValue = 0x54494C45;  // "TILE"
constexpr std::uint32_t kCtrlStart = 1u << 0;
constexpr std::uint32_t kStatusDone = 1u << 1;
constexpr std::uint32_t kStatusError = 1u << 2;
constexpr std::uint32_t kFlagEmitSum = 1u << 0;
constexpr std::uint32_t kFlagDifferential = 1u << 1;
}  // namespace tile_reg

enum class TileError : std::uint32_t {
    kNone = 0,
    kBadConfig = 1,         // rows/outs/slices/bits outside the macro or the contract
    kInputOverflow = 2,     // the batch does not fit the input buffer, or reading it failed
    kOutputOverflow = 3,    // the batch does not fit the output buffer
    kDatapath = 4,          // a macro/ADC/shift-add stage refused the vector (e.g. ADC step <= 0)
    kInputRange = 5,        // an input is not an A_BITS-bit unsigned value
};

}  // namespace cimvp
