// Reference networks of the BN-folding tests that ref_nets.hpp / ref_nets_layout.hpp do not have
// (docs/nnabla-semantics.md §8.2, HEAD ref_graphs/), each in both layouts where upstream has a channel_last
// argument:
//   * small_bn_dcn / small_dcn: Deconvolution -> BN -> ReLU -> MP three times, and the folded reference
//     (upstream's deconvolution cases were commented out: AddBias gave them a bias of the wrong length);
//   * small_bn_opp_dcn / small_opp_dcn: Deconvolution -> ReLU -> BN -> Deconvolution -> MP three times,
//     and the opposite-folded reference. K and P are the kernel and padding of the three deconvolutions
//     that READ a BN: upstream's 3x3 pad 1 (K = 3, P = 1) is not exact and kata refuses it
//     (compile_fail/opposite_fold_deconv_pad.cpp); 1x1 pad 0 and 3x3 pad 2 (every output sees every
//     tap) are the exact variants kata folds;
//   * small_multiple_inputs_outputs_bn_folding_resnet: the folded reference of ref_nets.hpp's
//     small_multiple_inputs_outputs_resnet;
//   * bn_lenet / bn_opp_lenet and the folded reference bn_folding_lenet_layout, with channel_last.
//     Upstream's channel-last forms cannot be built (the first MaxPooling lacks channel_last, and the BN
//     after fc1 gets axes [3] on a 2-D tensor); here every pooling follows the layout and that BN
//     normalises axis 1;
//   * small_bn_opp_resnet_l (small_bn_opp_resnet in both layouts) and its opposite-folded reference
//     small_bn_opp_folded_resnet (only the stem BN disappears; the block BNs also feed the Add2, so they
//     stay and the block convolution reads the BN's input), and small_cl_bn_folding_resnet (the folded
//     reference of ref_nets_layout.hpp's small_cl_resnet: small_bn_folding_resnet channel-last).
// Names follow upstream (dcn-deconv1/deconv1, conv1-bn, ...); inputs are "x" (and "z") so that the test
// harness feeds the same data to a network and to its reference.
#pragma once

#include "ref_nets_layout.hpp"

namespace ref {

template <int Dims, bool CL>
constexpr shape_t input_shape(std::int64_t c = 3) {
    if constexpr (CL)
        return image_shape_cl<Dims>(c);
    else
        return image_shape<Dims>(c);
}
template <int Dims, bool CL>
constexpr var image_input(builder& g) {
    return g.input("x", input_shape<Dims, CL>(), CL ? layout::channel_last : layout::none);
}
template <int Dims, bool CL>
constexpr int channel_axis() {
    return CL ? Dims + 1 : 1;
}
// 2x pooling, skipped for 1-D as upstream does.
template <int Dims, bool CL>
constexpr var max_pool(var h) {
    if constexpr (Dims > 1)
        return F::max_pooling(h, kdims<Dims>(2), {.channel_last = CL});
    else
        return h;
}
template <int Dims, bool CL>
constexpr var avg_pool(var h) {
    if constexpr (Dims > 1)
        return F::average_pooling(h, kdims<Dims>(2), {.channel_last = CL});
    else
        return h;
}
template <int Dims, bool CL>
constexpr var conv_l(var h, bool bias, std::string_view name, std::int64_t k = 3, std::int64_t p = 1) {
    return PF::convolution(
        h, 16, kdims<Dims>(k),
        {.pad = kdims<Dims>(p), .channel_last = CL, .with_bias = bias, .name = pf_name(name, "conv")});
}
template <int Dims, bool CL>
constexpr var deconv_l(var h, bool bias, std::string_view name, std::int64_t k = 3, std::int64_t p = 1) {
    return PF::deconvolution(
        h, 16, kdims<Dims>(k),
        {.pad = kdims<Dims>(p), .channel_last = CL, .with_bias = bias, .name = pf_name(name, "deconv")});
}
template <int Dims, bool CL, bool Test = true>
constexpr var bn_l(var h, std::string_view name) {
    return PF::batch_normalization(h, bn(Test, name, channel_axis<Dims, CL>()));
}

// ---- deconvolution nets ---------------------------------------------------------------------------
// /255 -> 3x [Deconv 16 3x3 pad 1 -> BN -> ReLU -> MP] -> FC10 ("dcn-fc").
template <int Dims = 2, bool CL = false, bool WBias = false, bool Test = true>
constexpr var small_bn_dcn(builder& g) {
    var h = image_input<Dims, CL>(g) / 255.0;
    constexpr std::string_view scopes[3] = {"dcn-deconv1", "dcn-deconv2", "dcn-deconv3"};
    constexpr std::string_view deconvs[3] = {"deconv1", "deconv2", "deconv3"};
    constexpr std::string_view bns[3] = {"bn1", "bn2", "bn3"};
    for (int i = 0; i < 3; ++i) {
        auto s = g.scope(scopes[i]);
        h = deconv_l<Dims, CL>(h, WBias, deconvs[i]);
        h = max_pool<Dims, CL>(F::relu(bn_l<Dims, CL, Test>(h, bns[i])));
    }
    return PF::affine(h, 10, {.name = "dcn-fc"});
}
// The folded reference: the same without BNs, every deconvolution with a bias.
template <int Dims = 2, bool CL = false>
constexpr var small_dcn(builder& g) {
    var h = image_input<Dims, CL>(g) / 255.0;
    constexpr std::string_view names[3] = {"deconv1", "deconv2", "deconv3"};
    for (int i = 0; i < 3; ++i) {
        auto s = g.scope(names[i]);
        h = max_pool<Dims, CL>(F::relu(deconv_l<Dims, CL>(h, true, names[i])));
    }
    return PF::affine(h, 10, {.name = "fc"});
}

// /255 -> 3x [Deconv 3x3 pad 1 -> ReLU -> BN -> Deconv KxK pad P -> MP] -> FC10.
template <int Dims = 2, bool CL = false, int K = 3, int P = 1, bool WBias = false, bool Test = true>
constexpr var small_bn_opp_dcn(builder& g) {
    var h = image_input<Dims, CL>(g) / 255.0;
    constexpr std::string_view scopes[3] = {"dcn-deconv1", "dcn-deconv2", "dcn-deconv3"};
    constexpr std::string_view first[3] = {"deconv1", "deconv3", "deconv5"};
    constexpr std::string_view second[3] = {"deconv2", "deconv4", "last-conv"};
    constexpr std::string_view bns[3] = {"bn1", "bn2", "bn3"};
    for (int i = 0; i < 3; ++i) {
        auto s = g.scope(scopes[i]);
        h = F::relu(deconv_l<Dims, CL>(h, WBias, first[i]));
        h = bn_l<Dims, CL, Test>(h, bns[i]);
        h = max_pool<Dims, CL>(deconv_l<Dims, CL>(h, WBias, second[i], K, P));
    }
    return PF::affine(h, 10, {.name = "dcn-fc"});
}
// The opposite-folded reference: the same without BNs, every deconvolution with a bias.
template <int Dims = 2, bool CL = false, int K = 3, int P = 1>
constexpr var small_opp_dcn(builder& g) {
    var h = image_input<Dims, CL>(g) / 255.0;
    constexpr std::string_view scopes[3] = {"deconv1", "deconv2", "deconv3"};
    constexpr std::string_view first[3] = {"deconv1", "deconv3", "deconv5"};
    constexpr std::string_view second[3] = {"deconv2", "deconv4", "last-conv"};
    for (int i = 0; i < 3; ++i) {
        auto s = g.scope(scopes[i]);
        h = F::relu(deconv_l<Dims, CL>(h, true, first[i]));
        h = max_pool<Dims, CL>(deconv_l<Dims, CL>(h, true, second[i], K, P));
    }
    return PF::affine(h, 10, {.name = "fc"});
}

// ---- two inputs, two outputs: folded reference -----------------------------------------------------
// small_multiple_inputs_outputs_resnet with biased convolutions and no BN.
constexpr void small_multiple_inputs_outputs_bn_folding_resnet(builder& g) {
    var xs[2] = {g.input("x", image_shape<2>()), g.input("z", image_shape<2>())};
    var hs[2];
    constexpr std::string_view convs[2] = {"first-conv-0", "first-conv-1"};
    for (int i = 0; i < 2; ++i)
        hs[i] = F::max_pooling(F::relu(conv<2>(xs[i] / 255.0, true, convs[i])), {2, 2});
    var z = F::add_scalar(hs[0], 0.0) + hs[1];
    constexpr std::string_view cbs[2] = {"cb1", "cb2"};
    constexpr std::string_view fcs[2] = {"fc0", "fc1"};
    for (int i = 0; i < 2; ++i) {
        var h;
        {
            auto s = g.scope(cbs[i]);
            h = F::relu(conv<2>(z, true, "conv") + z);
        }
        g.output(PF::affine(F::average_pooling(h, {2, 2}), 10, {.name = fcs[i]}));
    }
}

// ---- LeNets (input (1,3,32,32) or (1,32,32,3)) -------------------------------------------------------
template <bool CL>
constexpr var conv5(var h, bool bias, std::string_view name) {
    return PF::convolution(h, 16, {5, 5},
                           {.channel_last = CL, .with_bias = bias, .name = pf_name(name, "conv")});
}
// conv1 -> BN -> MP -> ReLU -> conv2(bias) -> BN -> MP -> ReLU -> fc1(bias) -> BN -> ReLU -> fc2.
template <bool CL = false, bool WBias = false, bool Test = true>
constexpr var bn_lenet(builder& g) {
    var h = image_input<2, CL>(g);
    h = conv5<CL>(h, WBias, "conv1");
    h = F::relu(max_pool<2, CL>(bn_l<2, CL, Test>(h, "conv1-bn")));
    h = conv5<CL>(h, true, "conv2");
    h = F::relu(max_pool<2, CL>(bn_l<2, CL, Test>(h, "conv2-bn")));
    h = PF::affine(h, 10, {.name = "fc1"});
    h = F::relu(PF::batch_normalization(h, bn(Test, "fc1-bn", 1)));
    return PF::affine(h, 10, {.name = "fc2"});
}
// BN -> conv1 -> MP -> ReLU -> BN -> conv2(bias) -> MP -> ReLU -> BN -> fc1(bias) -> ReLU -> fc2.
template <bool CL = false, bool WBias = false, bool Test = true>
constexpr var bn_opp_lenet(builder& g) {
    var h = image_input<2, CL>(g);
    h = conv5<CL>(bn_l<2, CL, Test>(h, "conv1-bn"), WBias, "conv1");
    h = F::relu(max_pool<2, CL>(h));
    h = conv5<CL>(bn_l<2, CL, Test>(h, "conv2-bn"), true, "conv2");
    h = F::relu(max_pool<2, CL>(h));
    h = F::relu(PF::affine(bn_l<2, CL, Test>(h, "fc1-bn"), 10, {.name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}
// bn_folding_lenet with a layout: both LeNets above, folded, have this structure.
template <bool CL = false>
constexpr var bn_folding_lenet_layout(builder& g) {
    var h = image_input<2, CL>(g);
    h = F::relu(max_pool<2, CL>(conv5<CL>(h, true, "conv1")));
    h = F::relu(max_pool<2, CL>(conv5<CL>(h, true, "conv2")));
    h = F::relu(PF::affine(h, 10, {.name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}

// ---- small ResNets in both layouts -------------------------------------------------------------------
// small_bn_folding_resnet channel-last: the folded reference of small_cl_resnet.
template <int Dims = 2>
constexpr var small_cl_bn_folding_resnet(builder& g) {
    var h = image_input<Dims, true>(g) / 255.0;
    h = max_pool<Dims, true>(F::relu(conv_l<Dims, true>(h, true, "first-conv")));
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = F::relu(conv_l<Dims, true>(h, true, "conv") + h);
    }
    return PF::affine(avg_pool<Dims, true>(h), 10, {.name = "fc"});
}

// small_bn_opp_resnet (ref_nets.hpp) in both layouts; Pad 0: 3x3 pad-0 stem, 1x1 block convolutions.
template <int Dims = 2, bool CL = false, int Pad = 0, bool Test = true>
constexpr var small_bn_opp_resnet_l(builder& g) {
    constexpr std::int64_t K = Pad == 0 ? 1 : 3;
    var h = image_input<Dims, CL>(g) / 255.0;
    h = bn_l<Dims, CL, Test>(h, "first-bn");
    h = max_pool<Dims, CL>(F::relu(conv_l<Dims, CL>(h, true, "first-conv", 3, Pad)));
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        var z = bn_l<Dims, CL, Test>(h, "bn");
        h = F::relu(z + conv_l<Dims, CL>(z, true, "conv", K, Pad));
    }
    return PF::affine(avg_pool<Dims, CL>(h), 10, {.name = "fc"});
}
// Its opposite-folded form: no stem BN; each block BN stays for the Add2 and the block convolution
// reads the block input.
template <int Dims = 2, bool CL = false, int Pad = 0>
constexpr var small_bn_opp_folded_resnet(builder& g) {
    constexpr std::int64_t K = Pad == 0 ? 1 : 3;
    var h = image_input<Dims, CL>(g) / 255.0;
    h = max_pool<Dims, CL>(F::relu(conv_l<Dims, CL>(h, true, "first-conv", 3, Pad)));
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        var z = bn_l<Dims, CL>(h, "bn");
        h = F::relu(z + conv_l<Dims, CL>(h, true, "conv", K, Pad));
    }
    return PF::affine(avg_pool<Dims, CL>(h), 10, {.name = "fc"});
}

}  // namespace ref
