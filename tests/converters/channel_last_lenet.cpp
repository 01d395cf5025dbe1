// ChannelLastModifier / ChannelFirstModifier, part 2 (see channel_last_axes.cpp): upstream's unused
// reference cl_lenet. ChannelLast(lenet) has the functions (kinds, shapes, arguments, layouts) of the
// channel-last lenet, ChannelFirst(cl_lenet) those of lenet, in test and training mode; values against
// the original within 1e-5 relative.
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

// ---- cl_lenet: ChannelLast(lenet) is the channel-last lenet, and back ---------------------------------
template <bool Test>
using LeNet = network<ref::lenet<Test>>;
template <bool Test>
using ClLeNet = network<ref::cl_lenet<Test>>;
template <bool Test>
using LeNetCl = convert<LeNet<Test>, ChannelLastModifier{}>;
template <bool Test>
using ClLeNetCf = convert<ClLeNet<Test>, ChannelFirstModifier{}>;
static_assert(same_functions(LeNetCl<true>::graph, ClLeNet<true>::graph));
static_assert(same_functions(LeNetCl<false>::graph, ClLeNet<false>::graph));
static_assert(same_functions(ClLeNetCf<true>::graph, LeNet<true>::graph));
static_assert(same_functions(ClLeNetCf<false>::graph, LeNet<false>::graph));
static_assert(LeNetCl<true>::graph.find(op_kind::parameter, "fc1/affine/W_cl") >= 0);
static_assert(LeNetCl<true>::graph.find(op_kind::parameter, "conv2/conv/b") >=
              0);  // biases carried unchanged

TEST_CASE_TEMPLATE("ChannelLast(lenet) and ChannelFirst(cl_lenet) keep the values", T, std::true_type,
                   std::false_type) {
    {
        auto store = test::prepare<LeNet<T::value>, LeNetCl<T::value>>();
        CHECK(test::compare_layouts<LeNet<T::value>, LeNetCl<T::value>>(store) < tol);
    }
    {
        auto store = test::prepare<ClLeNet<T::value>, ClLeNetCf<T::value>>();
        CHECK(test::compare_layouts<ClLeNet<T::value>, ClLeNetCf<T::value>, false>(store) < tol);
    }
}

}  // namespace
