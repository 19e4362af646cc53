#include "sw/formats/idx_dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <fstream>

namespace cimvp {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

bool exists(const std::string& p) { return std::ifstream(p).good(); }

std::uint32_t be32(const std::uint8_t* b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

std::string find(const std::string& dir, const std::string& name) {
    for (const std::string& p : {dir + "/" + name + ".gz", dir + "/" + name})
        if (exists(p)) return p;
    throw DatasetError(dir + "/" + name + ".gz: not found. Install the data set with "
                       "`apt-get install dataset-fashion-mnist` (or run scripts/setup.sh)");
}

// An IDX file, gzip-compressed or not, read front to back: its header, then its body in chunks, of
// which only a window is kept (a share of the images need not hold the whole file in memory).
class IdxStream {
public:
    explicit IdxStream(std::string path) : path_(std::move(path)), f_(gzopen(path_.c_str(), "rb")) {
        if (!f_) throw DatasetError(path_ + ": cannot open");
    }
    ~IdxStream() { gzclose(f_); }
    IdxStream(const IdxStream&) = delete;
    IdxStream& operator=(const IdxStream&) = delete;

    // Up to n bytes into out; fewer only at the end of the file.
    std::size_t read(std::uint8_t* out, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            const int k = gzread(f_, out + got, static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 16)));
            if (k < 0) throw DatasetError(path_ + ": corrupt gzip stream");
            if (k == 0) break;
            got += static_cast<std::size_t>(k);
        }
        return got;
    }

    // The body's bytes [from, to) that the file has into `keep`, every other byte read and dropped;
    // returns the body's size (the bytes after the header, to the end of the file). Memory grows with
    // the bytes read, not with what a header claims.
    std::size_t read_body(std::size_t from, std::size_t to, std::vector<std::uint8_t>& keep) {
        keep.clear();
        keep.reserve(std::min<std::size_t>(to - from, std::size_t{1} << 26));
        std::array<std::uint8_t, 1 << 16> buf;
        std::size_t at = 0;
        for (std::size_t n; (n = read(buf.data(), buf.size())) > 0; at += n) {
            const std::size_t lo = std::max(at, from), hi = std::min(at + n, to);
            if (lo < hi) keep.insert(keep.end(), buf.begin() + (lo - at), buf.begin() + (hi - at));
        }
        return at;
    }

    const std::string& path() const { return path_; }

private:
    std::string path_;
    gzFile f_;
};

// The images file's header: magic, count, height, width.
struct ImagesHeader {
    std::uint32_t n = 0;
    int height = 0, width = 0;
};

ImagesHeader read_images_header(IdxStream& s) {
    std::array<std::uint8_t, 16> h{};
    if (s.read(h.data(), h.size()) < h.size() || be32(h.data()) != kImagesMagic)
        throw DatasetError(s.path() + ": magic: expected 0x00000803 (IDX unsigned-byte images)");
    return {be32(h.data() + 4), static_cast<int>(be32(h.data() + 8)), static_cast<int>(be32(h.data() + 12))};
}

int limited(std::uint32_t n, int limit) {
    return static_cast<int>(limit > 0 ? std::min<std::uint32_t>(n, static_cast<std::uint32_t>(limit)) : n);
}

}  // namespace

int idx_dataset_count(const std::string& dir, const std::string& prefix, int limit) {
    IdxStream images(find(dir, prefix + "-images-idx3-ubyte"));
    return limited(read_images_header(images).n, limit);
}

ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit) {
    return load_idx_dataset(dir, prefix, limit, 0, limit > 0 ? limit : 0x7fffffff);
}

ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit, int first, int n) {
    IdxStream images(find(dir, prefix + "-images-idx3-ubyte"));
    IdxStream labels(find(dir, prefix + "-labels-idx1-ubyte"));
    const ImagesHeader h = read_images_header(images);
    std::array<std::uint8_t, 8> lh{};
    if (labels.read(lh.data(), lh.size()) < lh.size() || be32(lh.data()) != kLabelsMagic)
        throw DatasetError(labels.path() + ": magic: expected 0x00000801 (IDX unsigned-byte labels)");
    if (be32(lh.data() + 4) != h.n)
        throw DatasetError(labels.path() + ": count: expected " + std::to_string(h.n) +
                           " labels (as many as images), got " + std::to_string(be32(lh.data() + 4)));
    ImageSet s;
    s.height = h.height;
    s.width = h.width;
    s.count = limited(h.n, limit);
    s.first = std::clamp(first, 0, s.count);
    s.held = std::clamp(n, 0, s.count - s.first);
    const std::size_t px = static_cast<std::size_t>(s.height) * s.width;
    const std::size_t ibody = images.read_body(px * s.first, px * (s.first + s.held), s.pixels);
    if (ibody != px * h.n)
        throw DatasetError(images.path() + ": size: expected " + std::to_string(16 + px * h.n) + " bytes, got " +
                           std::to_string(16 + ibody));
    const std::size_t lbody = labels.read_body(s.first, s.first + s.held, s.labels);
    if (lbody != h.n)
        throw DatasetError(labels.path() + ": size: expected " + std::to_string(8 + std::size_t{h.n}) + " bytes, got " +
                           std::to_string(8 + lbody));
    for (int i = 0; i < s.held; ++i)
        if (s.labels[i] > 9) throw DatasetError(labels.path() + ": label " + std::to_string(s.first + i) +
                                                ": expected 0..9, got " + std::to_string(s.labels[i]));
    return s;
}

}  // namespace cimvp
