#include "sw/contract/numerics.h"

#include <cmath>

namespace cimvp::numerics {

std::int64_t analog_to_fixed(double psum, int frac_bits) {
    return static_cast<std::int64_t>(std::floor(std::ldexp(psum, frac_bits) + 0.5));
}

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finalizer
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hash_key(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) {
    std::uint64_t h = mix64(seed);
    h = mix64(h ^ a);
    h = mix64(h ^ b);
    h = mix64(h ^ c);
    return mix64(h ^ d);
}

double uniform01(std::uint64_t key) {
    // 53 random bits, shifted off zero so log() is finite.
    return (static_cast<double>(mix64(key) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double standard_normal(std::uint64_t key) {  // Box-Muller on two derived uniforms
    const double u1 = uniform01(key);
    const double u2 = uniform01(key ^ 0x5851f42d4c957f2dULL);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace cimvp::numerics
