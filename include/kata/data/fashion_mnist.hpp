// kata/data/fashion_mnist.hpp: the Fashion-MNIST data set from the IDX files of Debian's
// dataset-fashion-mnist package, as a DataSource and a DataIterator.
//
//   auto train = kata::data::data_iterator_fashion_mnist(64);                     // shuffled, train set
//   auto test = kata::data::data_iterator_fashion_mnist(100, /*train=*/false, kata::data::RandomState{}, false);
//   auto [x, y] = train.next();  // x: float (64, 1, 28, 28) in [0, 1]; y: int32 (64, 1), classes 0..9
//
// Like nnabla-examples' data_iterator_mnist(batch_size, train=True, rng=None, shuffle=True): variables
// "x" and "y", one example is a (1, 28, 28) image and a (1,) label. Difference: nnabla's source hands out
// the raw 0..255 bytes (its examples divide by 255 in the graph); kata multiplies by `scale` (default
// 1/255) while copying, the pixels stay bytes in memory (47 MB for the training set instead of 188 MB
// of floats). Pass scale = 1 for nnabla's values.
//
// Files (train / test): train-images-idx3-ubyte, train-labels-idx1-ubyte / t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, each with or without ".gz" (Debian ships them gzip-compressed) under
// /usr/share/datasets/fashion-mnist by default. Errors (kata::io_error) name the file: missing,
// truncated, not IDX, not 28x28 images, labels out of 0..9, or image and label counts that differ.
#pragma once

#include "data_iterator.hpp"
#include "data_source.hpp"
#include "idx.hpp"
#include "random_state.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace kata::data {

/// Where Debian's dataset-fashion-mnist installs the files.
inline std::filesystem::path fashion_mnist_default_dir() { return "/usr/share/datasets/fashion-mnist"; }

/// dir/stem.gz if it exists, else dir/stem if that exists, else dir/stem.gz (the name an error reports).
inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const std::string& stem) {
    std::error_code ec;
    const auto gz = dir / (stem + ".gz");
    if (std::filesystem::exists(gz, ec)) return gz;
    if (std::filesystem::exists(dir / stem, ec)) return dir / stem;
    return gz;
}

struct fashion_mnist_set {
    idx_array images;  // (N, 28, 28) bytes
    idx_array labels;  // (N,) bytes, 0..9
    std::filesystem::path images_file, labels_file;
};

/// Reads and checks one half of the data set (train: 60 000 examples, test: 10 000).
inline fashion_mnist_set load_fashion_mnist(bool train,
                                            const std::filesystem::path& dir = fashion_mnist_default_dir()) {
    fashion_mnist_set s;
    const std::string prefix = train ? "train" : "t10k";
    s.images_file = fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
    s.labels_file = fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
    s.images = read_idx(s.images_file);
    s.labels = read_idx(s.labels_file);
    auto shape_text = [](const std::vector<std::size_t>& shape) { return detail::shape_string(shape); };
    if (s.images.shape.size() != 3 || s.images.shape[1] != 28 || s.images.shape[2] != 28)
        throw kata::io_error(s.images_file.string() + ": expected images of shape (N, 28, 28), found " +
                             shape_text(s.images.shape));
    if (s.labels.shape.size() != 1)
        throw kata::io_error(s.labels_file.string() + ": expected labels of shape (N,), found " +
                             shape_text(s.labels.shape));
    if (s.images.shape[0] != s.labels.shape[0])
        throw kata::io_error(s.images_file.string() + " has " + std::to_string(s.images.shape[0]) +
                             " images but " + s.labels_file.string() + " has " +
                             std::to_string(s.labels.shape[0]) + " labels");
    for (std::size_t i = 0; i < s.labels.data.size(); ++i)
        if (s.labels.data[i] > 9)
            throw kata::io_error(s.labels_file.string() + ": label " + std::to_string(s.labels.data[i]) +
                                 " at index " + std::to_string(i) + " is not a class 0..9");
    return s;
}

class FashionMnistDataSource final : public DataSource<float, std::int32_t> {
public:
    explicit FashionMnistDataSource(bool train = true,
                                    const std::filesystem::path& dir = fashion_mnist_default_dir(),
                                    float scale = 1.0f / 255.0f)
        : set_(load_fashion_mnist(train, dir)), scale_(scale) {
        init(set_.labels.shape[0], {"x", "y"}, {example_shape{1, 28, 28}, example_shape{1}});
    }

    void load(std::size_t index, const destinations& out) override {
        const std::uint8_t* px = set_.images.data.data() + index * 784;
        float* x = std::get<0>(out);
        for (std::size_t k = 0; k < 784; ++k) x[k] = static_cast<float>(px[k]) * scale_;
        *std::get<1>(out) = set_.labels.data[index];
    }

    const fashion_mnist_set& files() const { return set_; }

private:
    fashion_mnist_set set_;
    float scale_;
};

/// nnabla-examples' data_iterator_mnist(batch_size, train=True, rng=None, shuffle=True) for Fashion-MNIST.
inline DataIterator<float, std::int32_t> data_iterator_fashion_mnist(
    std::size_t batch_size, bool train = true, RandomState rng = RandomState{}, bool shuffle = true,
    const std::filesystem::path& dir = fashion_mnist_default_dir(), float scale = 1.0f / 255.0f) {
    return DataIterator<float, std::int32_t>(std::make_shared<FashionMnistDataSource>(train, dir, scale),
                                             batch_size, shuffle, rng);
}

}  // namespace kata::data
