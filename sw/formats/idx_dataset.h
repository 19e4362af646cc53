// IDX image/label files (the MNIST family), gzip-compressed or not, as the
// Debian package dataset-fashion-mnist ships them.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cimvp {

struct DatasetError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ImageSet {
    int count = 0, height = 0, width = 0;
    std::vector<std::uint8_t> pixels;  // count x height x width
    std::vector<std::uint8_t> labels;  // count
    const std::uint8_t* image(int i) const { return &pixels[static_cast<std::size_t>(i) * height * width]; }
};

// Where Debian's dataset-fashion-mnist installs the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads `<dir>/<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`
// (prefix "t10k" or "train"), at most `limit` images (0 = all). Throws
// DatasetError; a missing file gets a message saying how to install the data set.
ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit = 0);

}  // namespace cimvp
