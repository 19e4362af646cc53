#include "sw/app/swis_paper_tables.h"

#include <limits>

namespace cimvp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Columns in swis::kModes order: SS, DS, C-SS, C-DS, Act, Wgt, BitFusion (4 x 8), FXP.
const SwisPaperNetwork kPaperTable4[] = {
    {"resnet18",
     "ResNet-18 ImageNet",
     {{">69.1%", {3, 4, 4, 4, 7, 6, kNaN, 8}, {317.8, 292.5, 326.3, 353.6, 215.8, 230.7, 0, 238.5}, {28.6, 42.9, 21.4, 42.9, 12.2, 14.3, 0, 23.2}},
      {">60.2%", {2, 2, 2, 2, 6, 4, 4, kNaN}, {390.8, 416.5, 410.6, 439.1, 230.7, 267.7, 218.9, 0}, {42.9, 85.7, 42.9, 85.7, 14.3, 21.4, 42.9, 0}}}},
    {"mobilenet_v2",
     "MobileNet-v2 ImageNet",
     {{">68.0%", {5, 5, 5, 6, 7, 6, kNaN, 8}, {475.6, 490.0, 496.3, 495.8, 456.1, 466.1, 0, 391.2}, {4.0, 8.0, 4.0, 6.7, 2.9, 3.3, 0, 6.1}},
      {">60.3%", {3.5, 4, 4, 4, 6, 5, kNaN, kNaN}, {511.4, 511.6, 515.8, 529.4, 466.1, 476.6, 0, 0}, {5.7, 10.0, 10.0, 10.0, 3.3, 4.0, 0, 0}}}},
    {"vgg16",
     "VGG-16 CIFAR-100 (our trace: ImageNet)",
     {{">64.1%", {3, 4, 4, 4, 7, 6, kNaN, 8}, {763.6, 626.5, 815.1, 843.5, 553.0, 569.5, 0, 522.3}, {124.7, 187.1, 93.5, 187.1, 53.4, 62.4, 0, 94}},
      {">62.5%", {2.5, 2.5, 3, 3, 6, 4, 4, kNaN}, {878.2, 905.6, 942.1, 980.3, 569.5, 605.6, 799.8, 0}, {149.7, 299.3, 124.7, 299.3, 62.4, 93.5, 187.1, 0}}}},
};

}  // namespace

const SwisPaperNetwork* swis_paper_table4(const std::string& network) {
    for (const SwisPaperNetwork& n : kPaperTable4)
        if (network == n.name) return &n;
    return nullptr;
}

}  // namespace cimvp
