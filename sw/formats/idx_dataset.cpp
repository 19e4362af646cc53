#include "sw/formats/idx_dataset.h"

#include <zlib.h>

#include <fstream>

namespace cimvp {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

bool exists(const std::string& p) { return std::ifstream(p).good(); }

std::vector<std::uint8_t> read_gz(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");  // also reads uncompressed files
    if (!f) throw DatasetError(path + ": cannot open");
    std::vector<std::uint8_t> out;
    std::uint8_t buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
    const bool bad = n < 0;
    gzclose(f);
    if (bad) throw DatasetError(path + ": corrupt gzip stream");
    return out;
}

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

std::string find(const std::string& dir, const std::string& name) {
    for (const std::string& p : {dir + "/" + name + ".gz", dir + "/" + name})
        if (exists(p)) return p;
    throw DatasetError(dir + "/" + name + ".gz: not found. Install the data set with "
                       "`apt-get install dataset-fashion-mnist` (or run scripts/setup.sh)");
}

}  // namespace

ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit) {
    const std::string ipath = find(dir, prefix + "-images-idx3-ubyte");
    const std::string lpath = find(dir, prefix + "-labels-idx1-ubyte");
    const auto ib = read_gz(ipath);
    const auto lb = read_gz(lpath);
    if (ib.size() < 16 || be32(ib, 0) != kImagesMagic)
        throw DatasetError(ipath + ": magic: expected 0x00000803 (IDX unsigned-byte images)");
    if (lb.size() < 8 || be32(lb, 0) != kLabelsMagic)
        throw DatasetError(lpath + ": magic: expected 0x00000801 (IDX unsigned-byte labels)");
    ImageSet s;
    const std::uint32_t n = be32(ib, 4);
    s.height = static_cast<int>(be32(ib, 8));
    s.width = static_cast<int>(be32(ib, 12));
    if (be32(lb, 4) != n)
        throw DatasetError(lpath + ": count: expected " + std::to_string(n) + " labels (as many as images), got " +
                           std::to_string(be32(lb, 4)));
    const std::size_t px = static_cast<std::size_t>(s.height) * s.width;
    if (ib.size() != 16 + px * n)
        throw DatasetError(ipath + ": size: expected " + std::to_string(16 + px * n) + " bytes, got " +
                           std::to_string(ib.size()));
    if (lb.size() != 8 + static_cast<std::size_t>(n))
        throw DatasetError(lpath + ": size: expected " + std::to_string(8 + n) + " bytes, got " + std::to_string(lb.size()));
    s.count = static_cast<int>(limit > 0 ? std::min<std::uint32_t>(n, static_cast<std::uint32_t>(limit)) : n);
    s.pixels.assign(ib.begin() + 16, ib.begin() + 16 + static_cast<std::ptrdiff_t>(px * s.count));
    s.labels.assign(lb.begin() + 8, lb.begin() + 8 + s.count);
    for (int i = 0; i < s.count; ++i)
        if (s.labels[i] > 9) throw DatasetError(lpath + ": label " + std::to_string(i) + ": expected 0..9, got " +
                                                std::to_string(s.labels[i]));
    return s;
}

}  // namespace cimvp
