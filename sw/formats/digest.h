// FNV-1a 64, the one hash of the file formats and reports: the model file's
// checksum (model_file), a trace layer's name seed (trace_file) and the logits
// digest of a run (the front end writes the same digest, sw/python).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cimvp {

class Fnv1a64 {
public:
    static constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
    static constexpr std::uint64_t kPrime = 0x100000001b3ULL;

    Fnv1a64& add(const void* data, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(data);
        for (std::size_t i = 0; i < n; ++i) {
            h_ ^= b[i];
            h_ *= kPrime;
        }
        return *this;
    }
    std::uint64_t value() const { return h_; }
    // 16 lower-case hex digits.
    std::string hex() const {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
        return buf;
    }

private:
    std::uint64_t h_ = kOffsetBasis;
};

inline std::uint64_t fnv1a64(const void* data, std::size_t n) { return Fnv1a64().add(data, n).value(); }
inline std::uint64_t fnv1a64(const std::string& s) { return fnv1a64(s.data(), s.size()); }

}  // namespace cimvp
