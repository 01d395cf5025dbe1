// kata/monitor/monitor_image.hpp: kata::monitor::MonitorImage, nnabla.monitor.MonitorImage.
//
//   kata::monitor::MonitorImage images("Reconstruction", monitor, /*interval=*/1000, true, /*num_images=*/16);
//   images.add(i, x);  // x: (N, ..., C, H, W) float -> <save_path>/Reconstruction/<i:06d>-<j:03d>.png
//
// nnabla's rule: add(index, x) does nothing unless index == 0 or (index + 1) % interval == 0. Then x is
// reshaped to (-1, C, H, W), the first num_images images are kept, normalize_method maps them to [0, 1]
// (default: min-max over those images together), C > 3 keeps the first 3 channels, C == 2 gets a third
// channel of ones; image j is written to "<save_path>/<name, spaces -> '-'>/<index:06d>-<j:03d>.png",
// grayscale for C == 1, RGB otherwise. Each PNG is written atomically (png.hpp).
// Differences, on purpose: nnabla saves through scipy.misc.imsave, which stretches EVERY image to its
// own min..max again (so normalize_method has no visible effect) and no longer exists in SciPy >= 1.2;
// kata writes round(clip(v, 0, 1) * 255), the documented meaning of normalize_method. Constant input
// (max == min) gives black images instead of nnabla's division by zero.
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "detail/format.hpp"
#include "monitor.hpp"
#include "png.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::monitor {

class MonitorImage {
public:
    /// Maps a (N, C, H, W) batch to [0, 1].
    using normalize_function = std::function<xt::xarray<float>(const xt::xarray<float>&)>;

    MonitorImage(std::string name, const Monitor& monitor, std::int64_t interval = 1000, bool verbose = true,
                 std::size_t num_images = 16, normalize_function normalize_method = {})
        : name_(std::move(name)), interval_(interval), verbose_(verbose), num_images_(num_images),
          normalize_(std::move(normalize_method)) {
        if (interval_ < 1) throw std::invalid_argument("MonitorImage '" + name_ + "': interval must be >= 1");
        if (!normalize_) normalize_ = default_normalize_method;
        save_dir_ = monitor.save_path() / detail::file_stem(name_, "MonitorImage");
        std::error_code ec;
        std::filesystem::create_directories(save_dir_, ec);
        if (ec)
            throw std::runtime_error("MonitorImage: cannot create directory " + save_dir_.string() + ": " +
                                     ec.message());
    }

    static xt::xarray<float> default_normalize_method(const xt::xarray<float>& x) {
        if (x.size() == 0) return x;
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        const float mi = *lo, range = *hi - *lo;
        xt::xarray<float> out = x;
        for (float& v : out) v = range > 0 ? (v - mi) / range : 0.0f;
        return out;
    }

    /// Whether add(index, ...) writes images (nnabla's interval rule).
    bool writes_at(std::int64_t index) const { return index == 0 || (index + 1) % interval_ == 0; }

    void add(std::int64_t index, const xt::xarray<float>& x) {
        if (!writes_at(index)) return;
        if (x.dimension() < 3)
            throw std::invalid_argument("MonitorImage '" + name_ + "': expected (N, ..., C, H, W), got " +
                                        std::to_string(x.dimension()) + " dimensions");
        const std::size_t d = x.dimension();
        const std::size_t c = x.shape()[d - 3], h = x.shape()[d - 2], w = x.shape()[d - 1];
        const std::size_t per = c * h * w;
        const std::size_t total = per ? x.size() / per : 0;
        const std::size_t n = std::min(total, num_images_);
        xt::xarray<float> batch = xt::xarray<float>::from_shape({n, c, h, w});
        std::copy(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n * per), batch.begin());
        const xt::xarray<float> normalized = normalize_(batch);
        if (normalized.size() != batch.size())
            throw std::invalid_argument("MonitorImage '" + name_ +
                                        "': normalize_method changed the array size");
        const int out_channels = c == 1 ? 1 : 3;
        std::vector<std::uint8_t> pixels(h * w * static_cast<std::size_t>(out_channels));
        auto to_byte = [](float v) {
            if (!(v > 0.0f)) return std::uint8_t{0};  // also NaN
            if (v >= 1.0f) return std::uint8_t{255};
            return static_cast<std::uint8_t>(std::floor(v * 255.0f + 0.5f));
        };
        for (std::size_t j = 0; j < n; ++j) {
            const float* img = normalized.data() + j * per;
            for (std::size_t p = 0; p < h * w; ++p)
                for (int k = 0; k < out_channels; ++k) {
                    const float v =
                        static_cast<std::size_t>(k) < c ? img[static_cast<std::size_t>(k) * h * w + p] : 1.0f;
                    pixels[p * static_cast<std::size_t>(out_channels) + static_cast<std::size_t>(k)] =
                        to_byte(v);
                }
            write_png(image_path(index, j), w, h, out_channels, pixels);
        }
        if (verbose_)
            detail::log_info("iter=" + std::to_string(index) + " {" + name_ + "} are written to " +
                             (save_dir_ / (index_text(index) + "-*.png")).string() + ".");
    }

    std::filesystem::path image_path(std::int64_t index, std::size_t j) const {
        char num[8];
        std::snprintf(num, sizeof num, "%03zu", j);
        return save_dir_ / (index_text(index) + "-" + num + ".png");
    }
    const std::filesystem::path& save_dir() const { return save_dir_; }

private:
    static std::string index_text(std::int64_t index) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
        return buf;
    }
    std::string name_;
    std::int64_t interval_;
    bool verbose_;
    std::size_t num_images_;
    normalize_function normalize_;
    std::filesystem::path save_dir_;
};

}  // namespace kata::monitor
