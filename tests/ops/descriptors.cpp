// The op descriptors (kata/ops/descriptor.hpp, kata/ops/descriptors.hpp): one per op kind, consistent
// with kata/core/op_kind.hpp; names unique and equal to nnabla's type names; every function kind rebuilt
// from its recorded attributes gives the original node back; the argument lists (what the viewer prints
// in verbose mode) are nnabla's; the backward rule is set exactly for the kinds that have one
// (docs/training.md) and the ONNX slot is empty.
// Reference: tools/fixtures/nnabla_function_args.py prints nnabla 1.39's type_name and info.args for the
// same graph as all_ops below; the expected strings are its output, with two documented differences
// (nnabla rounds real arguments to float32: eps 0.001 -> 0.0010000000474974513; its Reshape keeps -1
// where kata records the resolved shape), which is also exactly what kata's viewer printed before the
// descriptors (byte for byte).
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include <kata/converters/rebuild.hpp>
#include <kata/kata.hpp>
#include <kata/ops/descriptors.hpp>
#include <kata/viewer/simple_graph.hpp>

using namespace kata;

namespace {

// nnabla's Function.info.type_name of each kind (leaves: kata's own names; HardSwish: nnabla 1.39 has no
// such function, the name is ONNX's and follows nnabla's HardSigmoid / HardTanh).
constexpr std::string_view nnabla_names[] = {
    "Input", "Parameter", "Convolution", "FusedConvolution", "DepthwiseConvolution", "Deconvolution",
    "DepthwiseDeconvolution", "Affine", "Embed", "BatchNormalization", "FusedBatchNormalization", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Add2", "Sub2", "Mul2", "Div2", "AddScalar", "MulScalar", "MaxPooling",
    "AveragePooling", "SumPooling", "Unpooling", "GlobalAveragePooling", "Concatenate", "Reshape",
    "Transpose", "Softmax", "Identity", "FixedPointQuantize", "Sink", "HardSwish",
    // int8 inference (kata/ops/quantized.hpp: kata's names)
    "QConvolution", "QAffine",
    // reductions and losses (nnabla's names)
    "Sum", "Mean", "SoftmaxCrossEntropy", "SquaredError", "SigmoidCrossEntropy", "LogSoftmax", "TopNError",
    "Dropout",
    // gradient kinds (kata's own names, docs/training.md)
    "Constant", "AccumulateGrad", "AffineDataGrad", "AffineFilterGrad", "ConvolutionDataGrad",
    "ConvolutionFilterGrad", "ReLUGrad", "LeakyReLUGrad", "SigmoidGrad", "TanhGrad", "MaxPoolingGrad",
    "AveragePoolingGrad", "GlobalAveragePoolingGrad", "BatchNormalizationGrad", "BatchNormalizationGammaGrad",
    "BroadcastGrad", "SoftmaxCrossEntropyGrad", "SumPoolingGrad", "HardSwishGrad", "EmbedFilterGrad",
    "ConcatenateGrad", "LogSoftmaxGrad", "DropoutGrad", "FixedPointQuantizeGrad", "SigmoidCrossEntropyGrad"};

// The kinds with a backward rule (docs/training.md lists the others; TopNError's rule reports that a
// loss depends on a metric).
constexpr op_kind with_backward[] = {op_kind::affine,
                                     op_kind::convolution,
                                     op_kind::batch_normalization,
                                     op_kind::relu,
                                     op_kind::leaky_relu,
                                     op_kind::sigmoid,
                                     op_kind::tanh,
                                     op_kind::identity,
                                     op_kind::add2,
                                     op_kind::sub2,
                                     op_kind::mul2,
                                     op_kind::add_scalar,
                                     op_kind::mul_scalar,
                                     op_kind::reshape,
                                     op_kind::max_pooling,
                                     op_kind::average_pooling,
                                     op_kind::global_average_pooling,
                                     op_kind::sum,
                                     op_kind::mean,
                                     op_kind::softmax_cross_entropy,
                                     op_kind::squared_error,
                                     op_kind::div2,
                                     op_kind::softmax,
                                     op_kind::transpose,
                                     op_kind::depthwise_convolution,
                                     op_kind::deconvolution,
                                     op_kind::fused_convolution,
                                     op_kind::fused_batch_normalization,
                                     op_kind::sum_pooling,
                                     op_kind::unpooling,
                                     op_kind::embed,
                                     op_kind::hard_swish,
                                     op_kind::concatenate,
                                     op_kind::sigmoid_cross_entropy,
                                     op_kind::log_softmax,
                                     op_kind::top_n_error,
                                     op_kind::dropout,
                                     op_kind::fixed_point_quantize,
                                     op_kind::depthwise_deconvolution};
constexpr bool has_backward_rule(op_kind k) {
    for (op_kind b : with_backward)
        if (b == k) return true;
    return false;
}

constexpr bool table_consistent() {
    for (std::size_t i = 0; i < op_kind_count; ++i) {
        const op_descriptor& d = op_descriptors[i];
        if (d.kind != op_kind(i) || d.name != type_name(op_kind(i)) || d.cls != identity_of(op_kind(i)).cls)
            return false;
        if (&descriptor_of(op_kind(i)) != &d) return false;
        // Leaves and gradient kinds are never rebuilt.
        if ((is_function(op_kind(i)) && !is_gradient_kind(op_kind(i))) != (d.rebuild != nullptr))
            return false;
        if (d.args == nullptr || (d.backward != nullptr) != has_backward_rule(op_kind(i)) ||
            !d.onnx.op_type.empty() || d.onnx.attributes)
            return false;
    }
    return true;
}
static_assert(table_consistent());

// Every op kind once, with non-default arguments where the op has any.
constexpr void all_ops(builder& g) {
    auto x = g.input("x", {2, 4, 9, 9});
    auto w = g.parameter("W", {6, 2, 3, 3});
    auto b = g.parameter("b", {6});
    auto h = F::convolution(x, w, b, {.pad = {1, 2}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2});
    auto dw = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), {.pad = {1, 1}, .multiplier = 2});
    auto dc = F::deconvolution(h, g.parameter("dcW", {6, 2, 3, 3}),
                               {.pad = {1, 1}, .stride = {2, 2}, .group = 3, .output_padding = {1, 1}});
    auto ddc = F::depthwise_deconvolution(dw, g.parameter("ddW", {8, 3, 3}), {.divisor = 2});
    auto bn = F::batch_normalization(
        h, g.parameter("beta", {1, 6, 1, 1}), none, g.parameter("mean", {1, 6, 1, 1}),
        g.parameter("var", {1, 6, 1, 1}),
        {.axes = {1}, .naxes = 1, .decay_rate = 0.75, .eps = 1e-3, .batch_stat = false});
    auto fbn =
        F::fused_batch_normalization(h, g.parameter("beta", {1, 6, 1, 1}), g.parameter("gamma", {1, 6, 1, 1}),
                                     g.parameter("mean", {1, 6, 1, 1}), g.parameter("var", {1, 6, 1, 1}), bn);
    auto t = F::tanh(F::sigmoid(F::leaky_relu(F::relu(fbn), 0.25)));
    // kata's fused convolution (conv + residual + ReLU), what FuseConvolutionEpilogueModifier produces.
    auto fc = F::fused_convolution(t, g.parameter("fW", {6, 3, 3, 3}), g.parameter("fb", {6}), bn,
                                   {.pad = {1, 1}, .group = 2});
    auto a2 = t + bn;
    auto s2 = a2 - t;
    auto m2 = s2 * a2;
    auto ms = ((m2 / s2) + 1.5) * 0.3;
    auto mp = F::max_pooling(ms, {2, 2}, {.stride = {1, 2}, .ignore_border = false, .pad = {1, 0}});
    auto ap = F::average_pooling(ms, {3, 2}, {.pad = {1, 1}, .including_pad = false});
    auto up = F::unpooling(F::sum_pooling(ms, {2, 2}), {2, 1});
    auto gap = F::global_average_pooling(up);
    auto rs = F::reshape(F::concatenate({mp, mp}, 1), {2, -1});
    auto tr = F::transpose(ap, {0, 2, 3, 1});
    auto fq = F::fixed_point_quantize(F::identity(F::softmax(rs, 1)),
                                      {.sign = false, .n = 5, .delta = 0.25, .ste_fine_grained = false});
    auto af = F::affine(gap, g.parameter("fcW", {6, 7}), g.parameter("fcb", {7}));
    auto e = F::embed(g.input("idx", {3}, layout::none, dtype::i32), g.parameter("E", {10, 4}));
    // int8 layers (kata/ops/quantized.hpp)
    auto xq = g.input("xq", {1, 3, 7, 7}, layout::none, dtype::i8);
    auto qc = F::qconvolution(xq, kata::detail::typed_parameter(g, "qW", {4, 3, 3, 3}, dtype::i8),
                              kata::detail::typed_parameter(g, "qb", {4}, dtype::i32),
                              kata::detail::typed_parameter(g, "qr", {2, 4}, dtype::i32),
                              {.pad = {1, 1}, .stride = {2, 2}});
    auto qa = F::qaffine(qc, kata::detail::typed_parameter(g, "qaW", {64, 5}, dtype::i8),
                         kata::detail::typed_parameter(g, "qab", {5}, dtype::i32),
                         kata::detail::typed_parameter(g, "qar", {2, 5}, dtype::i32));
    g.output(F::sink({fq, af, e, tr, dc, ddc, F::hard_swish(t), fc, qa}));
}
using All = network<all_ops>;

// Variants the first graph does not reach: channel-last and 1-D / 3-D forms, absent optional inputs,
// base_axis 2, unsigned/short lists.
constexpr void variants(builder& g) {
    auto x = g.input("x", {2, 7, 9, 5}, layout::channel_last);
    auto h = F::convolution(x, g.parameter("W", {6, 3, 3, 5}), {.pad = {1, 1}, .channel_last = true});
    h = F::deconvolution(h, g.parameter("dW", {6, 2, 2, 3}), g.parameter("db", {6}),
                         {.stride = {2, 2}, .group = 2, .channel_last = true});
    h = F::batch_normalization(h, none, none, g.parameter("m", {1, 1, 1, 6}), g.parameter("v", {1, 1, 1, 6}),
                               {.axes = {3}, .naxes = 1});
    h = F::fused_batch_normalization(h, g.parameter("be", {1, 1, 1, 6}), g.parameter("ga", {1, 1, 1, 6}),
                                     g.parameter("m", {1, 1, 1, 6}), g.parameter("v", {1, 1, 1, 6}), none,
                                     {.axes = {-1}, .naxes = 1, .eps = 1e-4});
    h = F::max_pooling(h, {2, 2}, {.channel_last = true});
    h = F::average_pooling(h, {2, 1}, {.stride = {1, 1}, .channel_last = true});
    h = F::unpooling(h, {1, 2}, true);
    auto y = g.input("y", {3, 4, 11});
    auto c1 = F::convolution(y, g.parameter("W1", {5, 4, 3}), g.parameter("b1", {5}), {.dilation = {2}});
    auto c3 = F::convolution(g.input("z", {1, 2, 5, 6, 7}), g.parameter("W3", {4, 1, 2, 3, 2}),
                             {.stride = {1, 2, 1}, .group = 2});
    auto p1 = F::sum_pooling(c1, {3}, {.ignore_border = false});
    auto p3 = F::max_pooling(c3, {2, 2, 2}, {.pad = {1, 0, 1}});
    auto ba = F::affine(y, g.parameter("A", {11, 3, 2}), {.base_axis = 2});
    auto fq = F::fixed_point_quantize(ba, {.n = 3, .delta = 0.5});
    g.output(h);
    g.output(p1);
    g.output(p3);
    g.output(F::softmax(fq, 0));
    g.output(F::transpose(fq, {3, 0, 2, 1}));
    // Reductions and losses (kata/ops/reduction.hpp, loss.hpp).
    auto sx = g.input("sx", {4, 5, 3});
    g.output(F::sum(sx, {0, 2}, true));
    g.output(F::mean(F::sum(sx, {-1})));
    g.output(F::softmax_cross_entropy(sx, g.input("t", {4, 1, 3}, layout::none, dtype::i32), 1));
    g.output(F::squared_error(sx, g.input("sz", {4, 5, 3})));
    g.output(F::sigmoid_cross_entropy(sx, g.input("st", {4, 5, 3})));
    g.output(F::log_softmax(sx, 1));
    g.output(F::top_n_error(sx, g.input("t2", {4, 5, 1}, layout::none, dtype::i32), -1, 3));
    g.output(F::dropout(sx, 0.25, 11));
}
using Variants = network<variants>;

// Rebuilds every function of `G` from its recorded attributes on fresh leaves of the same shapes,
// layouts and types, and counts the nodes that differ from the original (op, arguments, shape,
// layout, dtype, input count).
template <class Graph>
constexpr int rebuild_mismatches(const Graph& g) {
    int bad = 0;
    for (int k = 0; k < g.num_order; ++k) {
        const int id = g.order[std::size_t(k)];
        const node& n = g.nodes[std::size_t(id)];
        builder b;
        var ins[16]{};
        for (int j = 0; j < n.num_inputs; ++j) {
            const node& in = g.input_node(id, j);
            if (in.op == op_kind::parameter) {
                ins[j] = b.parameter(in.name.view(), in.shape);
                b.nodes[std::size_t(ins[j].id)].type =
                    in.type;  // int8/int32 parameters of QConvolution/QAffine
            } else {
                name_string nm("in");
                nm.append_int(g.input_of(id, j));
                ins[j] = b.input(nm.view(), in.shape, in.lay, in.type);
                b.nodes[std::size_t(ins[j].id)].lay = in.lay;  // input() tags rank >= 3 channel-first
            }
        }
        const var r =
            descriptor_of(n.op).rebuild(b, n.attr, std::span<const var>(ins, std::size_t(n.num_inputs)));
        const node& m = b.nodes[std::size_t(r.id)];
        const bool same = !b.failed && m.op == n.op && m.attr == n.attr && m.shape == n.shape &&
                          m.lay == n.lay && m.type == n.type && m.num_inputs == n.num_inputs;
        bad += same ? 0 : 1;
    }
    return bad;
}

constexpr int kinds_reached() {
    bool seen[op_kind_count]{};
    for (int k = 0; k < All::graph.num_order; ++k)
        seen[std::size_t(All::graph.nodes[All::graph.order[k]].op)] = true;
    int n = 0;
    for (std::size_t i = 0; i < op_kind_count; ++i) n += seen[i] ? 1 : 0;
    return n;
}

std::string label(const arg_list& l) {
    std::string s;
    for (const named_arg& a : l) {
        s += std::string(a.name) + "=";
        const arg_value& v = a.value;
        switch (v.type) {
        case arg_type::integer: s += std::to_string(v.i); break;
        case arg_type::real: s += std::to_string(v.r); break;
        case arg_type::boolean: s += v.i ? "true" : "false"; break;
        case arg_type::string: s += "'" + std::string(v.s) + "'"; break;
        case arg_type::list:
            s += "(";
            for (int i = 0; i < v.n; ++i) s += (i ? "," : "") + std::to_string(v.list[i]);
            s += ")";
            break;
        }
        s += " ";
    }
    return s;
}

}  // namespace

TEST_CASE("descriptors: one per op kind, names unique and nnabla's, identity rows consistent") {
    static_assert(sizeof(nnabla_names) / sizeof(nnabla_names[0]) == op_kind_count);
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < op_kind_count; ++i) {
        const op_descriptor& d = op_descriptors[i];
        CAPTURE(i);
        CHECK(d.name == nnabla_names[i]);
        CHECK(names.insert(d.name).second);
        CHECK(d.kind == op_kind(i));
        CHECK(is_leaf(op_kind(i)) == (d.cls == op_class::leaf));
        CHECK(is_elementwise_unary(op_kind(i)) == (d.cls == op_class::elementwise_unary));
        CHECK(is_binary_arith(op_kind(i)) == (d.cls == op_class::broadcasting_binary));
        CHECK(is_inner_product(op_kind(i)) == (d.cls == op_class::inner_product));
    }
    CHECK(type_name(op_kind::count_) == "?");
    CHECK(descriptor_of(op_kind::convolution).channel_last == layout_rule::convolution_like);
    CHECK(descriptor_of(op_kind::depthwise_convolution).channel_last == layout_rule::fallback);
    CHECK(descriptor_of(op_kind::fused_batch_normalization).channel_last == layout_rule::normalization);
    CHECK(descriptor_of(op_kind::unpooling).channel_last == layout_rule::pooling);
    CHECK(descriptor_of(op_kind::softmax).channel_last == layout_rule::axis_argument);
    CHECK(descriptor_of(op_kind::div2).channel_last == layout_rule::broadcasting_binary);
    CHECK(descriptor_of(op_kind::reshape).channel_last == layout_rule::fallback);
    CHECK(descriptor_of(op_kind::sink).channel_last == layout_rule::elementwise);
}

TEST_CASE("descriptors: every function kind rebuilt from its attributes equals the original node") {
    // Every kind before the reductions but two is reached by the first graph (see kinds_reached: the
    // leaves are not in its order); the reductions and losses are in Variants; gradient kinds are not
    // rebuilt (the training derivation makes them, tests/train/backward_vs_torch.cpp).
    static_assert(kinds_reached() == int(op_kind::sum) - 2);
    static_assert(rebuild_mismatches(All::graph) == 0);
    static_assert(rebuild_mismatches(Variants::graph) == 0);
    CHECK(rebuild_mismatches(All::graph) == 0);
    CHECK(rebuild_mismatches(Variants::graph) == 0);
}

TEST_CASE("descriptors: argument lists of every kind (the viewer's verbose labels before descriptors)") {
    // "<TypeName> <args_json>": nnabla's (tools/fixtures/nnabla_function_args.py, see the top of this
    // file), formatted by kata/viewer/simple_graph.hpp.
    const char* expected[] = {
        R"(Convolution {"base_axis": 1, "pad": [1, 2], "stride": [2, 1], "dilation": [1, 2], "group": 2, "channel_last": false})",
        R"(DepthwiseConvolution {"base_axis": 1, "pad": [1, 1], "stride": [1, 1], "dilation": [1, 1], "multiplier": 2})",
        R"(Deconvolution {"base_axis": 1, "pad": [1, 1], "stride": [2, 2], "dilation": [1, 1], "group": 3, "channel_last": false, "output_padding": [1, 1]})",
        R"(DepthwiseDeconvolution {"base_axis": 1, "pad": [0, 0], "stride": [1, 1], "dilation": [1, 1], "divisor": 2})",
        R"(BatchNormalization {"axes": [1], "decay_rate": 0.75, "eps": 0.001, "batch_stat": false, "no_scale": true, "no_bias": false})",
        R"(FusedBatchNormalization {"axes": [1], "decay_rate": 0.9, "eps": 1e-05, "batch_stat": true, "nonlinearity": "relu"})",
        R"(ReLU {"inplace": false})",
        R"(LeakyReLU {"alpha": 0.25, "inplace": false})",
        R"(Sigmoid {})",
        R"(Tanh {})",
        R"(Add2 {"inplace": false})",
        R"(Sub2 {"inplace": false})",
        R"(Mul2 {"inplace": false})",
        R"(Div2 {"inplace": false})",
        R"(AddScalar {"val": 1.5, "inplace": false})",
        R"(MulScalar {"val": 0.3, "inplace": false})",
        R"(MaxPooling {"kernel": [2, 2], "stride": [1, 2], "ignore_border": false, "pad": [1, 0], "channel_last": false})",
        R"(AveragePooling {"kernel": [3, 2], "stride": [3, 2], "ignore_border": true, "pad": [1, 1], "channel_last": false, "including_pad": false})",
        R"(SumPooling {"kernel": [2, 2], "stride": [2, 2], "ignore_border": true, "pad": [0, 0], "channel_last": false})",
        R"(Unpooling {"kernel": [2, 1], "channel_last": false})",
        R"(GlobalAveragePooling {})",
        R"(Concatenate {"axis": 1})",
        R"(Reshape {"shape": [2, 360], "inplace": true})",
        R"(Transpose {"axes": [0, 2, 3, 1]})",
        R"(Softmax {"axis": 1})",
        R"(Identity {})",
        R"(FixedPointQuantize {"sign": false, "n": 5, "delta": 0.25, "ste_fine_grained": false})",
        R"(Affine {"base_axis": 1})",
        R"(Embed {})",
        R"(Sink {"one_input_grad": true})",
        R"(FusedConvolution {"base_axis": 1, "pad": [1, 1], "stride": [1, 1], "dilation": [1, 1], "group": 2, "channel_last": false, "nonlinearity": "relu"})",  // kata's
        R"(HardSwish {})",  // kata's (no nnabla twin: not in nnabla_function_args.py)
        R"(QConvolution {"base_axis": 1, "pad": [1, 1], "stride": [2, 2], "dilation": [1, 1], "group": 1, "channel_last": false})",  // kata's
        R"(QAffine {"base_axis": 1})",  // kata's
    };
    std::set<std::string> want(std::begin(expected), std::end(expected));
    std::set<std::string> got;
    for (std::size_t i = 0; i < All::graph.size(); ++i) {
        const node& n = All::graph.nodes[i];
        if (is_function(n.op)) got.insert(std::string(type_name(n.op)) + " " + kata::detail::args_json(n));
    }
    CHECK(got == want);
}

TEST_CASE("descriptors: generic argument walks (Hana structs)") {
    const op_descriptor& conv = descriptor_of(op_kind::convolution);
    const node& c = All::graph.nodes[std::size_t(All::graph.find(op_kind::parameter, "W") + 2)];
    REQUIRE(c.op == op_kind::convolution);
    const arg_list l = conv.args(c.attr);
    CHECK(label(l) == "base_axis=1 pad=(1,2) stride=(2,1) dilation=(1,2) group=2 channel_last=false ");
    REQUIRE(l.find("group") != nullptr);
    CHECK(l.find("group")->value.i == 2);
    CHECK(l.find("kernel") == nullptr);

    // Equality is member-wise value equality (dims compare their given entries).
    static_assert(
        args_equal(convolution_args{.pad = {1, 1}, .group = 2}, convolution_args{.pad = {1, 1}, .group = 2}));
    static_assert(!args_equal(convolution_args{.pad = {1, 1}}, convolution_args{.pad = {1, 2}}));
    static_assert(!args_equal(convolution_args{.pad = {1, 1}}, convolution_args{.pad = {1, 1, 0}}));
    static_assert(args_equal(op_args::none{}, op_args::none{}));
    // The same structs are Hana Structs (KATA_ADAPT_ARGS): Hana's accessors list the same names.
    static_assert(boost::hana::Struct<convolution_args>::value && boost::hana::Struct<op_args::none>::value);
    {
        const arg_list viaf = to_arg_list(deconvolution_args{});
        int i = 0;
        bool same = true;
        boost::hana::for_each(boost::hana::accessors<deconvolution_args>(), [&](auto p) {
            same = same && i < viaf.count && viaf.items[i++].name == arg_name(p);
        });
        CHECK(same);
        CHECK(i == viaf.count);
    }
    // nnabla's defaults are the structs' default member initialisers.
    static_assert(args_equal(op_traits<op_kind::leaky_relu>::args{}, op_args::leaky_relu{0.1, false}));
    static_assert(op_args::batch_normalization{}.axes == axis_list{1});

    // Diagnostics: the same walk into a compile-time message.
    constexpr message_string m = [] {
        message_string s("Deconvolution(");
        append_args(s, deconvolution_args{.pad = {1, 0}, .group = 2, .channel_last = true});
        return s.append(')');
    }();
    CHECK(m.view() ==
          "Deconvolution(base_axis=1, pad=(1,0), stride=(), dilation=(), group=2, channel_last=true, "
          "output_padding=())");
}

TEST_CASE("descriptors: kata::rebuild names the arguments in its diagnostics") {
    constexpr message_string m = [] {
        builder b;
        attributes a;
        a.alpha = 0.5;
        (void)rebuild(b, op_kind::leaky_relu, a, {}, "act");
        return b.error;
    }();
    CHECK(
        m.view() ==
        "kata::rebuild: LeakyReLU(alpha=0.500000, inplace=false) in scope 'act' needs 1 to 16 inputs, got 0");
}
