// PruningModifier (docs/nnabla-semantics.md §2.14) on nnabla's pruning reference nets
// (docs/nnabla-semantics.md §8.2) in both layouts (the depthwise net: channel-first only), with and without
// biases, thresholds 0.1 and 0.2, each of the five function kinds alone and all five (upstream's test_pruning
// matrix, docs/nnabla-semantics.md §8.3), plus the nets where kata's output-channel scoring differs from
// upstream (grouped Deconvolution in both layouts, DepthwiseConvolution with a multiplier,
// DepthwiseDeconvolution with a divisor, Affine with a 2-D output).
//
// As upstream, the reference is the same network on hand-pruned parameters. Every weight of a
// prunable layer is set to +-0.9u or +-2u with u = sqrt(tau_p / (numel / channels)) (random signs,
// random half of the channels at 0.9u), so a channel's sum of squares is 0.81 tau_p or 4 tau_p, and a
// modifier with threshold tau prunes it iff that value <= tau: both pattern thresholds are run against
// both modifier thresholds (tau_p = 0.2, tau = 0.1 prunes nothing). The math is exact, so the derived
// w-pruned / b-pruned must equal the hand-pruned W / b bit for bit and the outputs agree to rounding.
// Structure (op sequence, which parameters each function reads, the derivation records) is checked at
// compile time. Then: idempotence and no stale values, chained pruning, a modifier value reused.
//
// Compile time: each (net, function set, threshold) is its own converted type, but the two thresholds
// give the same graph value, so executors run `graph_of<C::graph>` and are shared between them.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets_pruning.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

using namespace kata;
using test::same_structure;

namespace {

// A graph type that is only a graph value: converted types that differ only in their derivations
// (the threshold) run on one executor instantiation.
template <auto G>
struct graph_of {
    static constexpr auto graph = G;
};

constexpr bool prunable(op_kind k) {
    return k == op_kind::convolution || k == op_kind::deconvolution || k == op_kind::depthwise_convolution ||
           k == op_kind::depthwise_deconvolution || k == op_kind::affine;
}

// Function sets: each kind alone (upstream's parametrisation) and the default (all five).
constexpr int all_five = 5;
constexpr op_kind set_kind[5] = {op_kind::affine, op_kind::convolution, op_kind::deconvolution,
                                 op_kind::depthwise_convolution, op_kind::depthwise_deconvolution};
template <double Tau, int Set>
constexpr PruningModifier pruning_mod =
    Set == all_five ? PruningModifier{.threshold = Tau}
                    : PruningModifier{.threshold = Tau, .functions = {set_kind[Set]}};
static_assert(PruningModifier{}.prunes(op_kind::depthwise_deconvolution));
static_assert(!pruning_mod<0.1, 0>.prunes(op_kind::convolution));
static_assert(pruning_mod<0.1, 0>.prunes(op_kind::affine));
static_assert(
    !PruningModifier{.functions = {op_kind::relu, op_kind::embed}}.prunes(op_kind::relu));  // ignored
static_assert(!PruningModifier{.functions = {}}.prunes(op_kind::convolution));

constexpr std::string_view scope_of(std::string_view key) {
    const auto p = key.rfind('/');
    return p == std::string_view::npos ? std::string_view{} : key.substr(0, p);
}

// C is Net with exactly the listed prunable functions reading `<scope of W>/w-pruned` (and
// b-pruned) instead of W (b), the originals of those functions no longer in the graph, every other
// input unchanged, and one derivation per new parameter with the modifier's threshold.
template <class Net, class C>
constexpr bool pruned_as_listed(const PruningModifier& m) {
    constexpr const auto& g = Net::graph;
    constexpr const auto& cg = C::graph;
    if (!same_structure(g, cg)) return false;
    std::size_t ders = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[std::size_t(t)], cf = cg.order[std::size_t(t)];
        const node& n = g.nodes[std::size_t(f)];
        for (int k = 0; k < n.num_inputs; ++k) {
            const std::string_view key = g.input_node(f, k).name.view();
            const std::string_view got = cg.input_node(cf, k).name.view();
            if (k == 0 || !prunable(n.op) || !m.prunes(n.op)) {
                if (got != key) return false;
                continue;
            }
            const name_string want = modify_context::join(scope_of(key), k == 1 ? "w-pruned" : "b-pruned");
            if (got != want.view() || cg.find(op_kind::parameter, key) >= 0) return false;
            const derivation& d = C::derivations[ders++];
            const derivation_kind kind = k == 1 ? derivation_kind::prune_weight : derivation_kind::prune_bias;
            if (d.target != want || d.threshold != m.threshold ||
                d.sources[src_w] != g.input_node(f, 1).name || d.kind != kind || !d.need_grad)
                return false;
            if (k == 2 && d.sources[src_b] != key) return false;
        }
    }
    return C::derivations.size() == ders;
}

// ---- hand pruning ------------------------------------------------------------------------------------

struct layer {
    op_kind op{};
    std::string w, b;              // keys (b empty without bias)
    std::vector<std::int64_t> ch;  // output channel of each W element
    std::vector<char> low;         // per channel: at 0.9u (sum of squares 0.81 tau_p) or 2u (4 tau_p)
};

// Sets every prunable layer's W to the pattern for tau_p (biases keep their synthetic values).
template <class Net>
std::vector<layer> set_pattern(parameter_store& s, double tau_p, std::uint32_t seed) {
    constexpr const auto& g = Net::graph;
    std::vector<layer> out;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[std::size_t(t)];
        const node& n = g.nodes[std::size_t(f)];
        if (!prunable(n.op)) continue;
        layer l;
        l.op = n.op;
        const node& wn = g.input_node(f, 1);
        l.w = std::string(wn.name.view());
        if (n.num_inputs > 2) l.b = std::string(g.input_node(f, 2).name.view());
        const std::int64_t channels = ref::pruning::output_channels(n, wn.shape);
        const std::int64_t numel = wn.shape.numel();
        REQUIRE(numel % channels == 0);
        std::mt19937 rng(seed + std::uint32_t(models::fnv1a64(l.w)));
        std::vector<std::int64_t> perm(static_cast<std::size_t>(channels));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        l.low.assign(std::size_t(channels), 0);
        for (std::int64_t i = 0; i < channels / 2; ++i) l.low[std::size_t(perm[std::size_t(i)])] = 1;
        const double u = std::sqrt(tau_p / double(numel / channels));
        auto& w = s.at(l.w).data;
        l.ch.resize(std::size_t(numel));
        for (std::int64_t e = 0; e < numel; ++e) {
            const std::int64_t o = ref::pruning::output_channel(n, wn.shape, e);
            l.ch[std::size_t(e)] = o;
            const double sign = (rng() & 1u) ? -1.0 : 1.0;
            w.data()[e] = float(sign * (l.low[std::size_t(o)] ? 0.9 : 2.0) * u);
        }
        out.push_back(std::move(l));
    }
    return out;
}

// Channel o of a layer patterned with tau_p is pruned by threshold tau iff its sum of squares <= tau.
inline bool pruned(const layer& l, std::int64_t o, double tau_p, double tau) {
    return (l.low[std::size_t(o)] ? 0.81 : 4.0) * tau_p <= tau;
}

// Zeroes, in place, the channels that threshold tau prunes in the layers whose kind `m` lists;
// returns how many channels were pruned.
int hand_prune(parameter_store& s, const std::vector<layer>& ls, const PruningModifier& m, double tau_p) {
    int count = 0;
    for (const layer& l : ls) {
        if (!m.prunes(l.op)) continue;
        auto& w = s.at(l.w).data;
        for (std::size_t e = 0; e < l.ch.size(); ++e)
            if (pruned(l, l.ch[e], tau_p, m.threshold)) w.data()[e] = 0.0f;
        for (std::size_t o = 0; o < l.low.size(); ++o) {
            if (!pruned(l, std::int64_t(o), tau_p, m.threshold)) continue;
            ++count;
            if (!l.b.empty()) s.at(l.b).data.data()[o] = 0.0f;
        }
    }
    return count;
}

// Largest normwise relative difference of the (single) outputs of A on store sa and B on store sb.
template <graph_type A, graph_type B>
double compare_stores(parameter_store& sa, parameter_store& sb) {
    auto xs = test::make_inputs<A>();
    cpu::executor<A> ea(sa);
    cpu::executor<B> eb(sb);
    auto ya = ea(xs[0]);
    auto yb = eb(xs[0]);
    REQUIRE(ya.size() == yb.size());
    return test::rel_diff(ya.data(), yb.data(), ya.size());
}

constexpr double tol = 1e-6;

// The run-time part of a cell (not a template: 108 cells share it): hand-prunes `reference`, applies
// the conversion's derivations to `store` and checks that the derived parameters are the hand-pruned
// ones, bit for bit. Returns the number of channels pruned.
int check_parameters(parameter_store& store, parameter_store& reference, const std::vector<layer>& layers,
                     const PruningModifier& m, double tau_p, std::span<const derivation> ders, int set) {
    INFO("function set " << set << ", threshold " << m.threshold << ", pattern for " << tau_p);
    const int n_pruned = hand_prune(reference, layers, m, tau_p);
    apply_derivations(ders, store);
    std::size_t derived = 0;
    for (const layer& l : layers) {
        if (!m.prunes(l.op)) continue;
        const std::string scope(scope_of(l.w));
        CHECK(store.at(modify_context::join(scope, "w-pruned").view()).data == reference.at(l.w).data);
        if (!l.b.empty())
            CHECK(store.at(modify_context::join(scope, "b-pruned").view()).data == reference.at(l.b).data);
        derived += l.b.empty() ? 1 : 2;
    }
    CHECK(derived == ders.size());
    return n_pruned;
}

// Converted graph G on `store` against the original Net on the hand-pruned `reference`.
template <graph_type G, graph_type Net>
void check_outputs(parameter_store& store, parameter_store& reference, int n_pruned) {
    CHECK(compare_stores<G, Net>(store, reference) <= tol);
    // Not vacuous: where channels were pruned, the unpruned network differs.
    if (n_pruned > 0) CHECK(compare_stores<Net, Net>(store, reference) > 1e-3);
    if (n_pruned == 0) CHECK(compare_stores<Net, Net>(store, reference) == 0.0);
}

// One cell of upstream's matrix: Net pruned by pruning_mod<Tau, Set> on the pattern for tau_p (`base`
// holds Net's parameters with that pattern). The derived parameters are compared bit for bit with
// the hand-pruned ones in every cell; with Outputs, the converted network also runs against the
// original on the hand-pruned store. (Same structure, checked at compile time, and equal parameters
// already imply equal outputs; running every cell would multiply executor instantiations, which
// dominate this file's compile time.)
template <class Net, int Set, double Tau, bool Outputs>
void run_case(const parameter_store& base, const std::vector<layer>& layers, double tau_p) {
    constexpr PruningModifier m = pruning_mod<Tau, Set>;
    using C = convert<Net, m>;
    static_assert(pruned_as_listed<Net, C>(m));
    parameter_store store = base;
    parameter_store reference = base;
    const std::span<const derivation> ders(C::derivations.data(), C::derivations.size());
    const int n_pruned = check_parameters(store, reference, layers, m, tau_p, ders, Set);
    if constexpr (Outputs) check_outputs<graph_of<C::graph>, Net>(store, reference, n_pruned);
}

// Full: outputs for every function set that changes Net; otherwise for all five only.
template <class Net, int Set, bool Full>
void run_set(const parameter_store& base, const std::vector<layer>& layers, double tau_p) {
    // The threshold only enters the derivations: both thresholds give one graph (one executor).
    static_assert(std::is_same_v<graph_of<convert<Net, pruning_mod<0.1, Set>>::graph>,
                                 graph_of<convert<Net, pruning_mod<0.2, Set>>::graph>>);
    constexpr bool outputs =
        (Set == all_five || Full) && convert<Net, pruning_mod<0.1, Set>>::derivations.size() > 0;
    run_case<Net, Set, 0.1, outputs>(base, layers, tau_p);
    run_case<Net, Set, 0.2, outputs>(base, layers, tau_p);
}

template <class Net, bool Full = false>
void run_matrix() {
    for (double tau_p : {0.1, 0.2}) {
        parameter_store base(313);
        models::synthetic_parameters<Net>(base);
        const auto layers = set_pattern<Net>(base, tau_p, tau_p > 0.15 ? 2u : 1u);
        [&]<int... S>(std::integer_sequence<int, S...>) { (run_set<Net, S, Full>(base, layers, tau_p), ...); }
        (std::make_integer_sequence<int, 6>{});
    }
}

template <bool CL, bool Bias>
using PNet = network<ref::pruning::net_for_pruning<CL, Bias>>;
template <bool Bias>
using DwNet = network<ref::pruning::depthwise_net_for_pruning<Bias>>;
template <bool Bias>
using GNet = network<ref::pruning::grouped_net_for_pruning<Bias>>;
using GClNet = network<ref::pruning::grouped_cl_net_for_pruning>;

TEST_CASE_TEMPLATE("pruning matches hand pruning (net_for_pruning, 6 function sets, thresholds 0.1/0.2)", Net,
                   PNet<false, false>, PNet<false, true>, PNet<true, false>) {
    run_matrix<Net>();
}
TEST_CASE("pruning matches hand pruning (net_for_pruning, channel-last with bias, outputs for every set)") {
    run_matrix<PNet<true, true>, true>();
}

TEST_CASE_TEMPLATE("pruning matches hand pruning (depthwise_net_for_pruning, 6 function sets, 0.1/0.2)", Net,
                   DwNet<false>) {
    run_matrix<Net>();
}
TEST_CASE("pruning matches hand pruning (depthwise_net_for_pruning with bias, outputs for every set)") {
    run_matrix<DwNet<true>, true>();
}

// ---- where upstream's axis is not the output channel ---------------------------------------------------
using GPruned = convert<GNet<true>, PruningModifier{.threshold = 0.1}>;
// Bias lengths are output-channel counts: grouped deconv 12 (upstream's mask: 3), depthwise deconv
// with divisor 4: 6 (upstream's mask: 24), Affine (3, 4): 12 units (upstream's mask: 3).
static_assert(GPruned::derivations.size() == 8);
static_assert(GPruned::derivations[1].target == std::string_view("gdeconv/deconv/b-pruned") &&
              GPruned::derivations[1].shape == shape_t{12});
static_assert(GPruned::derivations[5].target == std::string_view("dwdeconv-d4/depthwise_deconv/b-pruned") &&
              GPruned::derivations[5].shape == shape_t{6});
static_assert(GPruned::derivations[7].target == std::string_view("fc34/affine/b-pruned") &&
              GPruned::derivations[7].shape == shape_t{3, 4});

TEST_CASE_TEMPLATE("pruning scores true output channels (grouped deconv, multiplier, divisor, 2-D Affine)",
                   Net, GNet<false>, GClNet) {
    run_matrix<Net>();
}
TEST_CASE("pruning scores true output channels (grouped net with bias, outputs for every set)") {
    run_matrix<GNet<true>, true>();
}

// Upstream's depthwise-deconvolution unit (one row of W, not its output channel) differs: with the
// rows of one output channel at different levels, kata prunes the channel as a whole or not at all.
TEST_CASE("depthwise deconvolution with divisor 4 prunes whole output channels") {
    using Net = GNet<true>;
    using C =
        convert<Net, PruningModifier{.threshold = 1.0, .functions = {op_kind::depthwise_deconvolution}}>;
    parameter_store store(313);
    models::synthetic_parameters<Net>(store);
    auto& w = store.at("dwdeconv-d4/depthwise_deconv/W")
                  .data;  // (24, 3, 3): output channel o reads rows 4o .. 4o + 3
    for (std::size_t r = 0; r < 24; ++r)
        for (std::size_t k = 0; k < 9; ++k)
            // row sums of squares: 0.5 / 9 * 9 = 0.5 in row 4o (o even: one row, 0.5 total; o odd: every
            // row at 0.5, channel total 2.0); other rows of even channels 0.
            w(r, k / 3, k % 3) = float((r % 4 == 0 || (r / 4) % 2 == 1) ? std::sqrt(0.5 / 9.0) : 0.0);
    apply_conversion<C>(store);
    const auto& wp = store.at("dwdeconv-d4/depthwise_deconv/w-pruned").data;
    const auto& bp = store.at("dwdeconv-d4/depthwise_deconv/b-pruned").data;
    const auto& b = store.at("dwdeconv-d4/depthwise_deconv/b").data;
    for (std::size_t o = 0; o < 6; ++o) {
        const bool kept = o % 2 == 1;  // 2.0 > 1.0; even channels 0.5 <= 1.0 (upstream: each row 0.5 pruned)
        CHECK(bp(o) == (kept ? b(o) : 0.0f));
        for (std::size_t r = 4 * o; r < 4 * o + 4; ++r)
            for (std::size_t k = 0; k < 9; ++k)
                CHECK(wp(r, k / 3, k % 3) == (kept ? w(r, k / 3, k % 3) : 0.0f));
    }
}

// The comparison is strict (upstream: `>`): a channel whose sum of squares equals the threshold is
// pruned. conv channel 0: 144 x 0.5^2 = 36 exactly; channel 1: one element 0.75 instead, 36.3125.
using Strict =
    convert<PNet<false, true>, PruningModifier{.threshold = 36.0, .functions = {op_kind::convolution}}>;
TEST_CASE("a channel whose sum of squares equals the threshold is pruned") {
    parameter_store store(313);
    models::synthetic_parameters<PNet<false, true>>(store);
    auto& w = store.at("conv/W").data;  // (16, 16, 3, 3)
    for (std::size_t o = 0; o < 16; ++o)
        for (std::size_t e = 0; e < 144; ++e) w.data()[o * 144 + e] = o < 2 ? 0.5f : 1.0f;
    w.data()[144 + 7] = 0.75f;
    apply_conversion<Strict>(store);
    const auto& wp = store.at("conv/w-pruned").data;
    const auto& bp = store.at("conv/b-pruned").data;
    const auto& b = store.at("conv/b").data;
    for (std::size_t e = 0; e < 144; ++e) {
        CHECK(wp.data()[e] == 0.0f);
        CHECK(wp.data()[144 + e] == w.data()[144 + e]);
    }
    CHECK(bp(0) == 0.0f);
    CHECK(bp(1) == b(1));
    CHECK(b(0) != 0.0f);
}

// ---- idempotence, no stale values, chained pruning, reuse ---------------------------------------------
using Net2 = PNet<false, true>;
using Pruned01 = convert<Net2, PruningModifier{.threshold = 0.1}>;
using Pruned02 = convert<Net2, PruningModifier{.threshold = 0.2}>;

TEST_CASE("applying twice gives identical values, a changed W is picked up (no stale parameters)") {
    parameter_store store(313);
    models::synthetic_parameters<Net2>(store);
    const auto layers = set_pattern<Net2>(store, 0.1, 11);
    apply_conversion<Pruned01>(store);
    const xt::xarray<float> w1 = store.at("conv/w-pruned").data;
    const xt::xarray<float> b1 = store.at("deconv/b-pruned").data;
    const std::size_t n1 = store.size();
    apply_conversion<Pruned01>(store);
    CHECK(store.size() == n1);
    CHECK(store.at("conv/w-pruned").data == w1);
    CHECK(store.at("deconv/b-pruned").data == b1);
    // Raise one pruned channel of conv to 4 tau and scale one kept channel of deconv by 0.4 (sum of
    // squares 4 tau -> 0.64 tau, pruned): upstream's get-or-create would keep w1 / b1.
    const layer& conv = layers[0];
    const layer& deconv = layers[1];
    REQUIRE(conv.w == "conv/W");
    REQUIRE(deconv.w == "deconv/W");
    std::int64_t up = -1, down = -1;
    for (std::size_t o = 0; o < conv.low.size() && up < 0; ++o)
        if (conv.low[o]) up = std::int64_t(o);
    for (std::size_t o = 0; o < deconv.low.size() && down < 0; ++o)
        if (!deconv.low[o]) down = std::int64_t(o);
    auto& cw = store.at("conv/W").data;
    for (std::size_t e = 0; e < conv.ch.size(); ++e)
        if (conv.ch[e] == up) cw.data()[e] *= float(2.0 / 0.9);
    auto& dw = store.at("deconv/W").data;
    for (std::size_t e = 0; e < deconv.ch.size(); ++e)
        if (deconv.ch[e] == down) dw.data()[e] *= 0.4f;
    apply_conversion<Pruned01>(store);
    const auto& w2 = store.at("conv/w-pruned").data;
    CHECK(w2 != w1);
    for (std::size_t e = 0; e < conv.ch.size(); ++e)
        if (conv.ch[e] == up) CHECK(w2.data()[e] == cw.data()[e]);
    CHECK(store.at("deconv/b-pruned").data(std::size_t(down)) == 0.0f);
    CHECK(b1(std::size_t(down)) != 0.0f);
    // And the values match a hand pruning of the changed parameters.
    parameter_store reference = store;
    for (const layer& l : layers) {
        auto& w = reference.at(l.w).data;
        std::vector<double> s(l.low.size(), 0.0);
        for (std::size_t e = 0; e < l.ch.size(); ++e)
            s[std::size_t(l.ch[e])] += double(w.data()[e]) * w.data()[e];
        for (std::size_t e = 0; e < l.ch.size(); ++e)
            if (!(s[std::size_t(l.ch[e])] > 0.1)) w.data()[e] = 0.0f;
        for (std::size_t o = 0; o < s.size(); ++o)
            if (!(s[o] > 0.1)) reference.at(l.b).data.data()[o] = 0.0f;
    }
    CHECK(compare_stores<graph_of<Pruned01::graph>, Net2>(store, reference) <= tol);
}

// Pruning a pruned network: the second pass prunes w-pruned into w-pruned-2 (upstream: the names
// collide and get-or-create hands back the first pruning). Both orders give prune(W, 0.2) on the
// tau_p = 0.2 pattern (0.1 prunes nothing there, 0.2 prunes the 0.81 tau_p channels).
using Chain12 = convert<Pruned01, PruningModifier{.threshold = 0.2}>;
using Chain21 = convert<Pruned02, PruningModifier{.threshold = 0.1}>;
using Chain3 = convert<Chain12, PruningModifier{.threshold = 0.2, .functions = {op_kind::affine}}>;
static_assert(Chain12::graph.find(op_kind::parameter, "conv/w-pruned-2") >= 0);
static_assert(Chain12::graph.find(op_kind::parameter, "fc/affine/b-pruned-2") >= 0);
static_assert(Chain12::graph.find(op_kind::parameter, "conv/w-pruned") < 0);
static_assert(Chain12::derivations.size() == 12);
static_assert(Chain3::graph.find(op_kind::parameter, "fc/affine/w-pruned-3") >= 0);
static_assert(Chain3::graph.find(op_kind::parameter, "conv/w-pruned-2") >= 0);
static_assert(kata::detail::pruned_generation("a/w-pruned-12") == 12);
static_assert(kata::detail::pruned_generation("a/w-pruned-") == 0);
static_assert(kata::detail::pruned_generation("w-pruned") == 1);
static_assert(kata::detail::pruned_generation("a/W") == 0);

TEST_CASE("chained pruning derives in order (w-pruned-2, w-pruned-3)") {
    parameter_store store(313);
    models::synthetic_parameters<Net2>(store);
    const auto layers = set_pattern<Net2>(store, 0.2, 5);
    parameter_store reference = store;
    REQUIRE(hand_prune(reference, layers, PruningModifier{.threshold = 0.2}, 0.2) == 8 + 8 + 5);
    apply_conversion<Chain12>(store);
    CHECK(store.at("conv/w-pruned").data == store.at("conv/W").data);  // 0.1 prunes nothing here
    CHECK(store.at("conv/w-pruned-2").data == reference.at("conv/W").data);
    CHECK(store.at("fc/affine/b-pruned-2").data == reference.at("fc/affine/b").data);
    CHECK(compare_stores<graph_of<Chain12::graph>, Net2>(store, reference) <= tol);
    apply_conversion<Chain21>(store);
    CHECK(compare_stores<graph_of<Chain21::graph>, Net2>(store, reference) <= tol);
    apply_conversion<Chain3>(store);
    CHECK(store.at("fc/affine/w-pruned-3").data == reference.at("fc/affine/W").data);
    CHECK(compare_stores<graph_of<Chain3::graph>, Net2>(store, reference) <= tol);
}

// One modifier value, two conversions (two networks, and the same network twice: one type).
constexpr PruningModifier shared_mod{.threshold = 0.1, .functions = {op_kind::convolution, op_kind::affine}};
using SharedA = convert<PNet<true, true>, shared_mod>;
using SharedB = convert<DwNet<true>, shared_mod>;
static_assert(std::is_same_v<SharedA, convert<PNet<true, true>, shared_mod>>);
static_assert(pruned_as_listed<PNet<true, true>, SharedA>(shared_mod));
static_assert(pruned_as_listed<DwNet<true>, SharedB>(shared_mod));
static_assert(SharedB::derivations.size() == 3);  // conv (no bias), fc W and b

TEST_CASE("a modifier value is reused for two conversions") {
    auto check = []<class Net, class C>() {
        parameter_store store(313);
        models::synthetic_parameters<Net>(store);
        const auto layers = set_pattern<Net>(store, 0.1, 3);
        parameter_store reference = store;
        CHECK(hand_prune(reference, layers, shared_mod, 0.1) > 0);
        apply_conversion<C>(store);
        CHECK(compare_stores<graph_of<C::graph>, Net>(store, reference) <= tol);
    };
    check.template operator()<PNet<true, true>, SharedA>();
    check.template operator()<DwNet<true>, SharedB>();
}

// The harness detects a wrong mask (one pruned deconvolution channel left in).
TEST_CASE("the comparison detects a wrong mask") {
    parameter_store store(313);
    models::synthetic_parameters<Net2>(store);
    const auto layers = set_pattern<Net2>(store, 0.1, 17);
    parameter_store reference = store;
    hand_prune(reference, layers, PruningModifier{.threshold = 0.1}, 0.1);
    apply_conversion<Pruned01>(store);
    REQUIRE(compare_stores<graph_of<Pruned01::graph>, Net2>(store, reference) <= tol);
    const layer& deconv = layers[1];
    std::int64_t low = -1;
    for (std::size_t o = 0; o < deconv.low.size() && low < 0; ++o)
        if (deconv.low[o]) low = std::int64_t(o);
    auto& wp = store.at("deconv/w-pruned").data;
    const auto& w = store.at("deconv/W").data;
    for (std::size_t e = 0; e < deconv.ch.size(); ++e)
        if (deconv.ch[e] == low) wp.data()[e] = w.data()[e];
    CHECK(compare_stores<graph_of<Pruned01::graph>, Net2>(store, reference) > 1e-4);
}

}  // namespace
