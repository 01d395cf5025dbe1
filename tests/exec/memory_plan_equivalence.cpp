// The O(N log N) memory plan (kata/exec/memory_plan.hpp, issue 16) computes exactly the plan of the
// previous quadratic version, kept here as the reference: per node the root, alias and in-place
// flags, offset and bytes, and the arena size, on graphs with aliases (Reshape), in-place element-wise
// ops, residual additions, several outputs and buffers of equal size (ties in the size order):
// LeNet, ResNet-50 (channel-first, and channel-last with folded BN), MobileNetV2, ResNeXt and a chain;
// and the training graph of a deep chain, where dozens of forward activations stay alive across the
// backward pass (the plan's sweep over all placed buffers), evaluated in one piece and in the four
// parts an executor uses.
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/exec/memory_plan.hpp>
#include <kata/train/backward.hpp>

#include "../../examples/models/chain.hpp"
#include "../../examples/models/lenet.hpp"
#include "../../examples/models/mobilenet_v2.hpp"
#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/resnext.hpp"

#include <array>
#include <cstdint>

using namespace kata;

namespace {

// The plan as computed before issue 16 (same rules: scans of every node and every placed buffer).
template <std::size_t N, std::size_t E, std::size_t O>
constexpr exec::memory_plan<N> reference_plan(const graph<N, E, O>& g) {
    exec::memory_plan<N> p{};
    std::array<int, N> pos{};
    for (std::size_t i = 0; i < N; ++i) {
        pos[i] = -1;
        p.root[i] = int(i);
        p.offset[i] = -1;
    }
    for (int t = 0; t < g.num_order; ++t) pos[std::size_t(g.order[t])] = t;
    std::array<int, N> last_read{};
    for (std::size_t i = 0; i < N; ++i) last_read[i] = -1;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        for (int k = 0; k < g.nodes[std::size_t(f)].num_inputs; ++k)
            last_read[std::size_t(g.input_of(f, k))] = t;
    }
    const int end = g.num_order;
    auto member_read_after = [&](int r, int t) {
        for (std::size_t i = 0; i < N; ++i)
            if (p.root[i] == r && pos[i] >= 0 && last_read[i] > t) return true;
        return false;
    };
    auto member_is_output = [&](int r) {
        for (std::size_t o = 0; o < O; ++o)
            if (p.root[std::size_t(g.outputs[o])] == r && pos[std::size_t(g.outputs[o])] >= 0) return true;
        return false;
    };
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        const node& n = g.nodes[std::size_t(f)];
        if ((n.op == op_kind::reshape || n.op == op_kind::identity) && n.num_inputs == 1) {
            p.aliased[std::size_t(f)] = true;
            p.root[std::size_t(f)] = p.root[std::size_t(g.input_of(f, 0))];
        } else if (is_elementwise_unary(n.op) && n.num_inputs == 1) {
            const int r = p.root[std::size_t(g.input_of(f, 0))];
            if (!is_leaf(g.nodes[std::size_t(r)].op) && !member_read_after(r, t) && !member_is_output(r)) {
                p.in_place[std::size_t(f)] = true;
                p.root[std::size_t(f)] = r;
            }
        }
    }
    std::array<int, N> first{}, last{};
    for (std::size_t i = 0; i < N; ++i) {
        first[i] = end + 1;
        last[i] = -1;
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (pos[i] < 0) continue;
        const std::size_t r = std::size_t(p.root[i]);
        if (first[r] > pos[i]) first[r] = pos[i];
        if (last[r] < pos[i]) last[r] = pos[i];
        if (last[r] < last_read[i]) last[r] = last_read[i];
    }
    for (std::size_t o = 0; o < O; ++o) last[std::size_t(p.root[std::size_t(g.outputs[o])])] = end;
    std::array<int, N> roots{};
    int nroots = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        const node& n = g.nodes[std::size_t(f)];
        if (p.root[std::size_t(f)] != f || n.op == op_kind::sink) continue;
        p.bytes[std::size_t(f)] =
            exec::detail::align_up(n.shape.numel() * dtype_size(n.type), exec::arena_alignment);
        p.naive_bytes += p.bytes[std::size_t(f)];
        roots[std::size_t(nroots++)] = f;
    }
    for (int i = 1; i < nroots; ++i) {
        int v = roots[std::size_t(i)];
        int j = i - 1;
        while (j >= 0 && p.bytes[std::size_t(roots[std::size_t(j)])] < p.bytes[std::size_t(v)]) {
            roots[std::size_t(j + 1)] = roots[std::size_t(j)];
            --j;
        }
        roots[std::size_t(j + 1)] = v;
    }
    std::array<int, N> placed{};
    int nplaced = 0;
    for (int i = 0; i < nroots; ++i) {
        const int f = roots[std::size_t(i)];
        const std::int64_t sz = p.bytes[std::size_t(f)];
        auto overlaps_time = [&](int o) {
            return !(last[std::size_t(o)] < first[std::size_t(f)] ||
                     last[std::size_t(f)] < first[std::size_t(o)]);
        };
        auto fits = [&](std::int64_t off) {
            for (int j = 0; j < nplaced; ++j) {
                int o = placed[std::size_t(j)];
                if (!overlaps_time(o)) continue;
                std::int64_t a = p.offset[std::size_t(o)], b = a + p.bytes[std::size_t(o)];
                if (off < b && a < off + sz) return false;
            }
            return true;
        };
        std::int64_t best = -1;
        if (fits(0)) best = 0;
        for (int j = 0; j < nplaced; ++j) {
            int o = placed[std::size_t(j)];
            if (!overlaps_time(o)) continue;
            std::int64_t cand = p.offset[std::size_t(o)] + p.bytes[std::size_t(o)];
            if ((best < 0 || cand < best) && fits(cand)) best = cand;
        }
        p.offset[std::size_t(f)] = best;
        placed[std::size_t(nplaced++)] = f;
        if (best + sz > p.arena_bytes) p.arena_bytes = best + sz;
    }
    return p;
}

template <std::size_t N>
constexpr bool same_plan(const exec::memory_plan<N>& a, const exec::memory_plan<N>& b) {
    for (std::size_t i = 0; i < N; ++i)
        if (a.root[i] != b.root[i] || a.aliased[i] != b.aliased[i] || a.in_place[i] != b.in_place[i] ||
            a.offset[i] != b.offset[i] || a.bytes[i] != b.bytes[i])
            return false;
    return a.arena_bytes == b.arena_bytes && a.naive_bytes == b.naive_bytes;
}

template <class Net>
constexpr bool plan_matches() {
    constexpr auto fast = exec::detail::make_memory_plan(Net::graph);
    constexpr auto ref = reference_plan(Net::graph);
    // Something was shared, aliased or written in place (the comparison is not between empty plans).
    static_assert(fast.arena_bytes > 0 && fast.arena_bytes <= fast.naive_bytes);
    return same_plan(fast, ref);
}

// Two outputs, one of them an early activation that stays alive to the end, a Reshape alias, in-place
// ReLUs, a residual Add2 and equal-sized buffers.
constexpr void two_outputs(builder& g) {
    auto x = g.input("x", {2, 3, 9, 7});
    auto a = F::relu(PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "c1"}));
    auto b = F::relu(PF::convolution(a, 4, {3, 3}, {.pad = {1, 1}, .name = "c2"}));
    auto s = F::add2(a, b);
    auto r = F::reshape(F::sigmoid(s), {2, 4 * 9 * 7});
    g.output(PF::affine(r, 5, {.name = "fc"}));
    g.output(a);
}

// 10 blocks of convolution + BN + ReLU on 16 x 8 x 8, a scalar loss: its training graph keeps every
// block's activations alive until the block's backward.
constexpr var chain_loss(builder& g) {
    var h = g.input("x", {1, 16, 8, 8});
    for (int b = 0; b < 10; ++b) {
        name_string scope("block");
        scope.append_int(b);
        h = models::detail::conv_bn<false>(h, 16, 3, 1, scope.view());
    }
    return F::mean(h);
}

using LeNet = network<models::lenet<3>>;
using ChainTraining = train::training_graph<network<chain_loss>>;
using ResNet50 = network<models::resnet50_net<1>>;
using ResNet50Folded = convert<ResNet50, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
using MobileNet = network<models::mobilenet_v2_net<1>>;
using ResNeXt = network<models::resnext_dilated_net<1>>;
using Chain = network<models::chain_net<30>>;
using TwoOutputs = network<two_outputs>;

}  // namespace

TEST_CASE("the memory plan equals the quadratic reference plan") {
    CHECK(plan_matches<TwoOutputs>());
    CHECK(plan_matches<LeNet>());
    CHECK(plan_matches<ResNet50>());
    CHECK(plan_matches<ResNet50Folded>());
    CHECK(plan_matches<MobileNet>());
    CHECK(plan_matches<ResNeXt>());
    CHECK(plan_matches<Chain>());
    CHECK(plan_matches<ChainTraining>());
}

TEST_CASE("the memory plan evaluated in four parts equals the plan in one piece") {
    constexpr const auto& G = ChainTraining::graph;
    constexpr std::size_t N = G.size();
    constexpr auto one = exec::detail::make_memory_plan(G);
    constexpr auto p0 = exec::detail::make_memory_plan_part(G, exec::detail::memory_plan_part<N>{}, 0, 4);
    constexpr auto p1 = exec::detail::make_memory_plan_part(G, p0, 1, 4);
    constexpr auto p2 = exec::detail::make_memory_plan_part(G, p1, 2, 4);
    constexpr auto p3 = exec::detail::make_memory_plan_part(G, p2, 3, 4);
    static_assert(p0.placed_roots < p1.placed_roots && p1.placed_roots < p2.placed_roots);
    CHECK(same_plan(one, p3.plan));
    CHECK(same_plan(reference_plan(G), p3.plan));
}
