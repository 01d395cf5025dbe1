// The execution layer needs neither xtensor, nor threads, nor exceptions, nor the heap (issue 10 point 1):
// compiled with -fno-exceptions -fno-rtti and only kata's include directory (ctest exec_freestanding,
// label exec; tests/compat/exec_freestanding.sh also cross-compiles it for a Cortex-M4 when
// arm-none-eabi-g++ is installed).
//
// A backend written here from scratch (plain loops: Affine, ReLU, Add2) runs a small graph through the
// one executor template with a static arena and constant parameters: a new backend is a type argument,
// not a copy of the executor. The host run checks the output against the closed form computed below
// and exits non-zero on a mismatch.
#include <kata/exec.hpp>
#include <kata/ops.hpp>

#if defined(XTENSOR_VERSION_MAJOR) || defined(_GLIBCXX_STRING) || defined(_GLIBCXX_IOSTREAM) ||              \
    defined(_GLIBCXX_THREAD) || defined(_GLIBCXX_STDEXCEPT) || defined(_GLIBCXX_MUTEX)
#error "kata/exec.hpp pulled in xtensor, <string>, <iostream>, <thread>, <stdexcept> or <mutex>"
#endif

#include <cstddef>
#include <cstdint>

using namespace kata;

namespace tiny {

template <op_kind K>
struct kernel;

template <>
struct kernel<op_kind::affine> {  // y (B, O) = x (B, K) W (K, O) + b (O)
    template <exec::op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <exec::op_instance I>
    static void run(const exec::kernel_io& io) {
        constexpr std::int64_t B = I.in[0].dims[0], K = I.in[1].dims[0], O = I.in[1].dims[1];
        const float* x = io.input(0);
        const float* w = io.input(1);
        float* y = io.output();
        for (std::int64_t i = 0; i < B; ++i)
            for (std::int64_t o = 0; o < O; ++o) {
                float s = I.nin > 2 ? io.input(2)[o] : 0.f;
                for (std::int64_t k = 0; k < K; ++k) s += x[i * K + k] * w[k * O + o];
                y[i * O + o] = s;
            }
    }
};
template <>
struct kernel<op_kind::relu> {
    template <exec::op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <exec::op_instance I>
    static void run(const exec::kernel_io& io) {
        for (std::int64_t i = 0; i < I.out.numel(); ++i)
            io.output()[i] = io.input(0)[i] > 0.f ? io.input(0)[i] : 0.f;
    }
};
template <>
struct kernel<op_kind::add2> {  // same shapes only
    template <exec::op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <exec::op_instance I>
    static void run(const exec::kernel_io& io) {
        static_assert(I.in[0] == I.out && I.in[1] == I.out, "tiny backend: Add2 without broadcasting");
        for (std::int64_t i = 0; i < I.out.numel(); ++i) io.output()[i] = io.input(0)[i] + io.input(1)[i];
    }
};

struct backend {
    template <op_kind K>
    using kernel = tiny::kernel<K>;
};

}  // namespace tiny

constexpr var net(builder& g) {
    auto x = g.input("x", {2, 3});
    auto h = F::relu(F::affine(x, g.parameter("W1", {3, 4}), g.parameter("b1", {4})));
    return F::affine(h + h, g.parameter("W2", {4, 2}));
}
using Net = network<net>;

constexpr float W1[12] = {1, -2, 0.5f, 3, -1, 1, 2, -0.5f, 0.25f, 4, -3, 1};
constexpr float b1[4] = {0.5f, -1, 0, 2};
constexpr float W2[8] = {1, 2, -1, 0.5f, 3, -2, 0.25f, 1};
constexpr exec::constant_parameter table[] = {{"W1", W1, {3, 4}}, {"b1", b1, {4}}, {"W2", W2, {4, 2}}};

using Exec = exec::executor<Net, tiny::backend, exec::static_arena, exec::constant_parameters<table>>;
static_assert(Exec::storage_bytes > 0 && Exec::prepared_bytes == 0);

Exec run;  // static storage: no heap anywhere

int main() {
    static const float x[6] = {1, 2, -1, 0.5f, -3, 2};
    run.execute(x);
    const float* y = run.output_data<0>();
    // closed form
    for (int i = 0; i < 2; ++i)
        for (int o = 0; o < 2; ++o) {
            float s = 0.f;
            for (int k = 0; k < 4; ++k) {
                float a = b1[k];
                for (int j = 0; j < 3; ++j) a += x[i * 3 + j] * W1[j * 4 + k];
                a = a > 0.f ? a : 0.f;
                s += (a + a) * W2[k * 2 + o];
            }
            if (y[i * 2 + o] != s) return 1;
        }
    return 0;
}
