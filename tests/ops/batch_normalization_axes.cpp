// BatchNormalization and FusedBatchNormalization (forward, CPU) over axes other than the usual channel
// axis, and on 3-D / 5-D inputs, in test mode (running statistics) and batch_stat mode (batch
// statistics; the running mean/var updated in the store: r = decay*r + (1-decay)*batch_stat, with the
// unbiased n/(n-1) batch variance for var). tests/ops/batch_normalization.cpp covers axes [1], [3]/[-1],
// [1,2] on 4-D and [1] on 2-D; this file adds
//   [1,3] on 4-D (two non-adjacent normalised axes), [0] on 3-D (the batch axis), [2] on 4-D (reduced
//   axes on both sides), [1,3] on (3,4,1,5) (a size-1 axis between two normalised axes: the kernel
//   merges C and W into one run), [1] on 3-D (N,C,L), [1] and [4] on 5-D, [0,2,4] on 5-D, [3,-3]
//   (= [1,3] unsorted and negative);
//   FusedBatchNormalization (relu(BN(x) + z) and relu(BN(x))) on axis [2], on 3-D [1], on 5-D [4] and
//   on [1,3] (nnabla's kernel accepts any single axis; kata's BN any set of axes).
// References (tools/fixtures/make_op_fixtures.py, bn_case): torch.batch_norm (float64) where the axes
// are a channel axis of torch (3-D/5-D [1]; 5-D [4] through a permute), otherwise the float64 closed
// form of the definition (bn_closed; the script also asserts it agrees with torch on the permuted and
// reshaped input). Statistics far from 0/1 (mean ~ N(0.5,1), var ~ U(0.5,2), gamma ~ U(0.5,1.5)),
// x scaled and shifted in batch_stat mode. Tolerance: rtol 1e-5, atol 1e-5 (as batch_normalization.cpp).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"
#include "bn_fixture_check.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

using kt::check_bn;

enum class variant { full, no_bias, no_scale };

struct bn_case {
    shape_t x;
    layout lay;
    int axes[4];
    int naxes;
};

// Same shapes and axes as axes_cases in make_op_fixtures.py (index = position there).
constexpr bn_case k_cases[] = {
    {{3, 4, 5, 6}, layout::channel_first, {1, 3}, 2},        // 0 axes13
    {{5, 3, 4}, layout::channel_first, {0}, 1},              // 1 axis0
    {{3, 4, 5, 7}, layout::channel_first, {2}, 1},           // 2 axis2
    {{3, 4, 1, 5}, layout::channel_first, {1, 3}, 2},        // 3 merge
    {{4, 5, 9}, layout::channel_first, {1}, 1},              // 4 ncl
    {{2, 3, 4, 5, 3}, layout::channel_first, {1}, 1},        // 5 ncdhw
    {{2, 3, 4, 3, 5}, layout::channel_last, {-1}, 1},        // 6 ndhwc (axis 4, given as -1)
    {{3, 2, 4, 3, 5}, layout::channel_first, {0, 2, 4}, 3},  // 7 5d_024
    {{3, 4, 5, 6}, layout::channel_first, {3, -3}, 2},  // 8 = axes13 given as [3,-3]: order and sign free
};
constexpr const char* k_names[] = {"axes13", "axis0", "axis2",  "merge", "ncl",
                                   "ncdhw",  "ndhwc", "5d_024", "axes13"};

constexpr batch_normalization_args make_args(const bn_case& c, bool batch_stat, double eps, double decay) {
    batch_normalization_args a;
    for (int i = 0; i < c.naxes; ++i) a.axes[i] = c.axes[i];
    a.naxes = c.naxes;
    a.batch_stat = batch_stat;
    a.eps = eps;
    a.decay_rate = decay;
    return a;
}
// The parameter shape: x's rank, 1 outside the normalised axes.
constexpr shape_t param_shape(const bn_case& c) {
    shape_t p = c.x;
    bool ax[max_rank]{};
    for (int i = 0; i < c.naxes; ++i) ax[c.axes[i] < 0 ? c.axes[i] + c.x.rank : c.axes[i]] = true;
    for (int d = 0; d < p.rank; ++d)
        if (!ax[d]) p.dims[d] = 1;
    return p;
}

// bn_test_<name>: eps 1e-4 (decay unused); bn_train_<name>: eps 1e-5, decay 0.75 (as in the script).
template <int Case, bool Train, variant V>
constexpr var bn_net(builder& g) {
    constexpr bn_case c = k_cases[Case];
    constexpr shape_t P = param_shape(c);
    auto x = g.input("x", c.x, c.lay);
    var beta = V == variant::no_bias ? none : g.parameter("beta", P);
    var gamma = V == variant::no_scale ? none : g.parameter("gamma", P);
    return F::batch_normalization(x, beta, gamma, g.parameter("mean", P), g.parameter("var", P),
                                  make_args(c, Train, Train ? 1e-5 : 1e-4, 0.75));
}

// FusedBatchNormalization cases (fbn_* in the script).
struct fbn_case {
    bn_case c;
    bool batch_stat;
    double eps, decay;
};
constexpr fbn_case k_fused[] = {
    {{{3, 4, 5, 6}, layout::channel_first, {2}, 1}, false, 1e-4, 0.9},     // 0 fbn_test_axis2
    {{{3, 4, 5, 6}, layout::channel_first, {2}, 1}, true, 1e-5, 0.8},      // 1 fbn_train_axis2
    {{{5, 4, 7}, layout::channel_first, {1}, 1}, true, 1e-5, 0.7},         // 2 fbn_train_ncl
    {{{2, 3, 4, 3, 5}, layout::channel_last, {4}, 1}, true, 1e-4, 0.9},    // 3 fbn_train_ndhwc
    {{{3, 4, 5, 6}, layout::channel_first, {1, 3}, 2}, true, 1e-5, 0.85},  // 4 fbn_train_axes13
};
constexpr const char* k_fused_names[] = {"fbn_test_axis2", "fbn_train_axis2", "fbn_train_ncl",
                                         "fbn_train_ndhwc", "fbn_train_axes13"};

template <int Case, bool Z>
constexpr var fbn_net(builder& g) {
    constexpr fbn_case f = k_fused[Case];
    constexpr shape_t P = param_shape(f.c);
    auto x = g.input("x", f.c.x, f.c.lay);
    var z = Z ? g.input("z", f.c.x, f.c.lay) : none;
    return F::fused_batch_normalization(x, g.parameter("beta", P), g.parameter("gamma", P),
                                        g.parameter("mean", P), g.parameter("var", P), z,
                                        make_args(f.c, f.batch_stat, f.eps, f.decay));
}

template <int Case, variant V = variant::full>
void check_test_mode(const char* yname = "y") {
    check_bn<network<bn_net<Case, false, V>>>(std::string("bn_test_") + k_names[Case], yname, false);
}
template <int Case, variant V = variant::full>
void check_batch_stat(const char* yname = "y") {
    check_bn<network<bn_net<Case, true, V>>>(std::string("bn_train_") + k_names[Case], yname, true);
}
template <int Case>
void check_fused() {
    check_bn<network<fbn_net<Case, true>>>(k_fused_names[Case], "y_z", k_fused[Case].batch_stat);
    check_bn<network<fbn_net<Case, false>>>(k_fused_names[Case], "y", k_fused[Case].batch_stat);
}

}  // namespace

// The parameter shapes the op derives (checked here so that a wrong fixture shape cannot pass unseen).
static_assert(param_shape(k_cases[0]) == shape_t{1, 4, 1, 6});
static_assert(param_shape(k_cases[6]) == shape_t{1, 1, 1, 1, 5});
static_assert(param_shape(k_cases[7]) == shape_t{3, 1, 4, 1, 5});

TEST_CASE("BatchNormalization axes=[1,3] (non-adjacent) on 4-D: test mode and batch_stat vs closed form") {
    check_test_mode<0>();
    check_test_mode<0, variant::no_bias>("y_nobias");
    check_batch_stat<0>();
    check_batch_stat<0, variant::no_scale>("y_noscale");
    check_batch_stat<8>();  // the same axes as [3,-3]
}
TEST_CASE("BatchNormalization axes=[0] on 3-D: test mode and batch_stat vs closed form") {
    check_test_mode<1>();
    check_batch_stat<1>();
}
TEST_CASE("BatchNormalization axes=[2] on 4-D: test mode and batch_stat vs closed form") {
    check_test_mode<2>();
    check_test_mode<2, variant::no_scale>("y_noscale");
    check_batch_stat<2>();
    check_batch_stat<2, variant::no_bias>("y_nobias");
}
TEST_CASE("BatchNormalization axes=[1,3] with a size-1 axis between them: test mode and batch_stat") {
    check_test_mode<3>();
    check_batch_stat<3>();
}
TEST_CASE("BatchNormalization 3-D (N,C,L) axes=[1]: test mode and batch_stat vs torch") {
    check_test_mode<4>();
    check_batch_stat<4>();
    check_batch_stat<4, variant::no_bias>("y_nobias");
}
TEST_CASE("BatchNormalization 5-D channel-first axes=[1]: test mode and batch_stat vs torch") {
    check_test_mode<5>();
    check_batch_stat<5>();
}
TEST_CASE("BatchNormalization 5-D channel-last axes=[-1]: test mode and batch_stat vs torch") {
    check_test_mode<6>();
    check_batch_stat<6>();
    check_batch_stat<6, variant::no_scale>("y_noscale");
}
TEST_CASE("BatchNormalization 5-D axes=[0,2,4]: test mode and batch_stat vs closed form") {
    check_test_mode<7>();
    check_batch_stat<7>();
}
TEST_CASE("FusedBatchNormalization axes=[2] on 4-D, test mode and batch_stat, with and without z") {
    check_fused<0>();
    check_fused<1>();
}
TEST_CASE("FusedBatchNormalization 3-D axes=[1], batch_stat, with and without z vs torch") {
    check_fused<2>();
}
TEST_CASE("FusedBatchNormalization 5-D channel-last axes=[4], batch_stat, with and without z vs torch") {
    check_fused<3>();
}
TEST_CASE("FusedBatchNormalization axes=[1,3], batch_stat, with and without z vs closed form") {
    check_fused<4>();
}
