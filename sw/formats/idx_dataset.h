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

// The first `count` images of a data set, of which the images first .. first + held - 1 are in memory
// (every one unless a window was asked for: the share of one process of an MPI-parallel run).
// image(i) and label(i) take the data set's index i of a held image.
struct ImageSet {
    int count = 0, height = 0, width = 0;
    int first = 0, held = 0;
    std::vector<std::uint8_t> pixels;  // held x height x width
    std::vector<std::uint8_t> labels;  // held
    const std::uint8_t* image(int i) const { return &pixels[static_cast<std::size_t>(i - first) * height * width]; }
    int label(int i) const { return labels[static_cast<std::size_t>(i - first)]; }
};

// Where Debian's dataset-fashion-mnist installs the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads `<dir>/<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`
// (prefix "t10k" or "train"), at most `limit` images (0 = all). Throws
// DatasetError; a missing file gets a message saying how to install the data set.
ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit = 0);

// The same files, checked the same way (each is read to its end), holding only the images
// first .. first + n - 1 of the `limit` (clamped to them): what one share of a run needs. `count` is
// still the data set's (up to the limit).
ImageSet load_idx_dataset(const std::string& dir, const std::string& prefix, int limit, int first, int n);

// The images load_idx_dataset(dir, prefix, limit) would give, from the images file's header alone.
int idx_dataset_count(const std::string& dir, const std::string& prefix, int limit = 0);

}  // namespace cimvp
