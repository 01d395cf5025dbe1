// kata_quantize_lenet: the quantization step of the int8 embedded LeNet (issue #14 point 3), as a tool the
// build runs: float LeNet parameters + calibration images -> the int8 parameters of
// examples/models/lenet_int8.hpp (= kata::convert<LeNet, kata::Int8QuantizationModifier{}>; values by the
// converter's host side kata/embedded/host/quantize.hpp, driven by examples/models/lenet_quantize.hpp).
//
//     kata_quantize_lenet lenet_fashion.npz lenet_int8.npz
//
// Input: an .npz as tools/fixtures/train_fashion_lenet.py writes it (LeNet's float32 parameters, "calib_x"
// uint8 (64, 1, 28, 28), "x" float32 (1, 1, 28, 28), "y" float32 (1, 10)). Output (written atomically):
// "<layer>/W_q" int8, "<layer>/b_q" int32, "<layer>/requant" int32 (2, O) for conv1, conv2, fc1, fc2, fc3; "x" int8
// (the input image quantized), "y" float32 (the float reference logits, copied), "output_scale" float32
// (rank 0: real logit = output_scale * code). Exit status 0, or 1 with a message on stderr.
#include <kata/detail/xtensor_fix.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "../examples/models/lenet_quantize.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: kata_quantize_lenet float_lenet.npz int8_lenet.npz\n", stderr);
        return 1;
    }
    try {
        const std::vector<std::byte> bytes = kata::io::read_file_bytes(argv[1]);
        const auto npz = kata::io::read_npz(bytes, argv[1]);
        kata::parameter_store store;
        const kata::io::npy_view* calib = nullptr;
        const kata::io::npy_view* x = nullptr;
        const kata::io::npy_view* y = nullptr;
        for (const auto& e : npz) {
            if (e.name == "calib_x") calib = &e.array;
            if (e.name == "x") x = &e.array;
            if (e.name == "y") y = &e.array;
            if (e.name.find('/') == std::string::npos) continue;
            if (e.array.dtype != kata::io::npy_dtype::f4)
                throw std::runtime_error(std::string(argv[1]) + ": parameter '" + e.name +
                                         "' is not float32");
            xt::xarray<float> a = xt::zeros<float>(e.array.shape);
            std::memcpy(a.data(), e.array.data.data(), a.size() * sizeof(float));
            store.create_or_replace(e.name, std::vector<std::size_t>(e.array.shape),
                                    kata::initializer::from_array(a));
        }
        if (!calib || calib->dtype != kata::io::npy_dtype::u1 ||
            calib->shape != std::vector<std::size_t>{64, 1, 28, 28})
            throw std::runtime_error(std::string(argv[1]) + ": needs 'calib_x' uint8 (64, 1, 28, 28)");
        if (!x || x->dtype != kata::io::npy_dtype::f4 || x->element_count() != 784 || !y ||
            y->dtype != kata::io::npy_dtype::f4 || y->element_count() != 10)
            throw std::runtime_error(std::string(argv[1]) +
                                     ": needs 'x' float32 (1, 1, 28, 28) and 'y' float32 (1, 10)");
        xt::xarray<float> images = xt::zeros<float>(calib->shape);
        for (std::size_t i = 0; i < images.size(); ++i)
            images.data()[i] = float(std::uint8_t(calib->data[i])) / 255.0f;
        const kata::models::lenet_int8_parameters q = kata::models::quantize_lenet(store, images);

        std::vector<kata::io::npz_item> items = q.values.items();
        std::vector<std::int8_t> xq(784);
        for (std::size_t i = 0; i < 784; ++i) {
            float v;
            std::memcpy(&v, x->data.data() + i * 4, 4);
            xq[i] = kata::embedded::host::quantize_input(v, q.input_scale());
        }
        const float output_scale = float(q.output_scale());
        items.push_back({"x", kata::io::npy_dtype::i1, {1, 1, 28, 28}, std::as_bytes(std::span(xq))});
        items.push_back({"y", kata::io::npy_dtype::f4, {1, 10}, y->data});
        items.push_back({"output_scale",
                         kata::io::npy_dtype::f4,
                         {},
                         std::as_bytes(std::span<const float>(&output_scale, 1))});
        kata::io::save_npz(argv[2], items);
        std::printf("kata_quantize_lenet: %s written (output scale %g; calibration maxima", argv[2],
                    double(output_scale));
        for (double m : q.ranges.tap_max) std::printf(" %g", m);
        std::printf(")\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kata_quantize_lenet: %s\n", e.what());
        return 1;
    }
}
