// ChannelLastModifier / ChannelFirstModifier, part 3 (see channel_last_axes.cpp): upstream's unused
// reference small_clbn_resnet, channel-last, whose blocks add each conv output to its own BN (a forked
// conv output), with and without biases, in test and training mode, in both directions (its
// channel-first twin small_cfbn_resnet). Functions (kinds, shapes, arguments, layouts) compared at
// compile time; values against the original within 1e-5 relative.
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets_misc.hpp"

using namespace kata;
using test::axes;
using test::axes_of;
using test::same_functions;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- small_clbn_resnet (forked conv outputs), with and without biases ---------------------------------
template <bool Test, bool WBias>
using Clbn = network<ref::small_clbn_resnet<Test, WBias>>;
template <bool Test, bool WBias>
using Cfbn = network<ref::small_cfbn_resnet<Test, WBias>>;
template <bool Test, bool WBias>
using ClbnCf = convert<Clbn<Test, WBias>, ChannelFirstModifier{}>;
template <bool Test, bool WBias>
using CfbnCl = convert<Cfbn<Test, WBias>, ChannelLastModifier{{"x"}}>;
static_assert(same_functions(ClbnCf<true, false>::graph, Cfbn<true, false>::graph));
static_assert(same_functions(ClbnCf<true, true>::graph, Cfbn<true, true>::graph));
static_assert(same_functions(ClbnCf<false, true>::graph, Cfbn<false, true>::graph));
static_assert(same_functions(CfbnCl<true, true>::graph, Clbn<true, true>::graph));
static_assert(same_functions(CfbnCl<false, false>::graph, Clbn<false, false>::graph));
static_assert(ClbnCf<true, true>::graph.find(op_kind::parameter, "clbn-cb2/conv/b") >= 0);
static_assert(ClbnCf<true, true>::graph.find(op_kind::parameter, "clbn-cb2/conv/W_cf") >= 0);
static_assert(ClbnCf<true, true>::graph.find(op_kind::parameter, "clbn-cb2/bn/gamma_cf") >= 0);
static_assert(ClbnCf<true, true>::graph.count(op_kind::transpose) == 0);

// Values for (test, no bias) and (training, bias); the structure checks above cover the other pairs.
template <bool Test, bool WBias>
struct clbn_case {
    static constexpr bool test = Test, wbias = WBias;
};
TEST_CASE_TEMPLATE("small_clbn_resnet to channel-first and its twin to channel-last keep the values", T,
                   clbn_case<true, false>, clbn_case<false, true>) {
    {
        auto store = test::prepare<Clbn<T::test, T::wbias>, ClbnCf<T::test, T::wbias>>();
        CHECK(test::compare_layouts<Clbn<T::test, T::wbias>, ClbnCf<T::test, T::wbias>, false>(store) < tol);
    }
    {
        auto store = test::prepare<Cfbn<T::test, T::wbias>, CfbnCl<T::test, T::wbias>>();
        CHECK(test::compare_layouts<Cfbn<T::test, T::wbias>, CfbnCl<T::test, T::wbias>>(store) < tol);
    }
}

}  // namespace
