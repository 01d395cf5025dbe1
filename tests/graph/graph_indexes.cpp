// The indexes a lifted graph carries (position in the visit order, consumers) and the builder's
// parameter index, checked against brute-force definitions written here from the nodes and edges
// alone (issue 16: these replaced per-node scans of the whole graph, so they must say exactly what
// the scans said).
#include <doctest/doctest.h>

#include <kata/kata.hpp>

#include <array>
#include <cstddef>

using namespace kata;

namespace {

// ---- brute-force references --------------------------------------------------------------------
template <class G>
constexpr int brute_position(const G& g, int id) {
    for (int t = 0; t < g.num_order; ++t)
        if (g.order[std::size_t(t)] == id) return t;
    return -1;
}
// Reachable functions reading `id`, in creation order, each once.
template <class G>
constexpr int brute_consumers(const G& g, int id, std::array<int, G::size()>& out) {
    int c = 0;
    for (std::size_t f = 0; f < g.size(); ++f) {
        if (brute_position(g, int(f)) < 0) continue;
        for (int k = 0; k < g.nodes[f].num_inputs; ++k)
            if (g.input_of(int(f), k) == id) {
                out[std::size_t(c++)] = int(f);
                break;
            }
    }
    return c;
}
template <class G>
constexpr bool indexes_agree(const G& g) {
    for (std::size_t i = 0; i < g.size(); ++i) {
        const int id = int(i);
        if (g.position[i] != brute_position(g, id)) return false;
        if (g.reachable(id) != (brute_position(g, id) >= 0)) return false;
        std::array<int, G::size()> want{}, got{};
        const int nw = brute_consumers(g, id, want);
        if (g.num_consumers(id) != nw || g.consumers(id, got) != nw) return false;
        for (int j = 0; j < nw; ++j)
            if (got[std::size_t(j)] != want[std::size_t(j)] || g.consumer(id, j) != want[std::size_t(j)])
                return false;
    }
    return true;
}

// ---- graphs --------------------------------------------------------------------------------------
// Diamond with a function reading the same variable twice (listed once), a dead branch reading a live
// node (not a consumer: unreachable), and a parameter shared by two layers.
constexpr void diamond(builder& g) {
    auto x = g.input("x", {2, 3, 8, 8});
    auto a = F::relu(x);                                       // 1
    auto w = g.parameter("shared/W", {3, 3, 3, 3});            // 2
    auto c1 = F::convolution(a, w, {.pad = {1, 1}});           // 3
    auto c2 = F::convolution(F::tanh(a), w, {.pad = {1, 1}});  // tanh 4, conv 5
    auto dead = F::sigmoid(c1);                                // 6: unreachable
    (void)dead;
    auto sq = F::mul2(c2, c2);  // 7: reads c2 twice
    g.output(F::add2(c1, sq));  // 8
    g.output(a);                // a second output, also read inside
}
using Diamond = network<diamond>;
constexpr auto& DG = Diamond::graph;
static_assert(indexes_agree(DG));
static_assert(DG.num_consumers(1) == 2 && DG.consumer(1, 0) == 3 && DG.consumer(1, 1) == 4);
static_assert(DG.num_consumers(5) == 1 && DG.consumer(5, 0) == 7);  // Mul2(c2, c2): once
static_assert(DG.num_consumers(3) == 1);                            // the dead Sigmoid does not count
static_assert(DG.num_consumers(2) == 2);                            // the shared weight
static_assert(!DG.reachable(6) && DG.position[6] == -1 && DG.position[0] == -1);
static_assert(DG.is_output(8) && DG.is_output(1) && !DG.is_output(7));

// A deep chain: the indexes are built in O(N + E) and still agree.
constexpr var deep(builder& g) {
    var h = g.input("x", {1, 4, 4, 4});
    for (int i = 0; i < 300; ++i) h = (i % 3 == 0) ? F::relu(h) + h : F::tanh(h);
    return h;
}
static_assert(indexes_agree(network<deep>::graph));

// ---- the builder's parameter index ----------------------------------------------------------------
// 1500 parameters in nested scopes with names that differ in one character, then every one asked for
// again (weight sharing): each must come back as the node created first, with nnabla's overwrite of
// need_grad, and a brute-force scan must find every key exactly once.
constexpr bool parameter_index_holds() {
    builder b;
    constexpr int n = 1500;
    auto key = [](int i) {
        name_string s("layer");
        s.append_int(i % 7).append('/').append_int(i / 7).append("/W");
        return s;
    };
    int ids[n]{};
    for (int i = 0; i < n; ++i) {
        name_string k = key(i);
        ids[i] = b.parameter(k.view(), {i % 5 + 1}).id;
    }
    if (b.nodes.size() != std::size_t(n)) return false;
    for (int i = n - 1; i >= 0; --i) {
        name_string k = key(i);
        var v = b.parameter(k.view(), {i % 5 + 1}, {}, /*need_grad=*/i % 2 == 0);
        if (v.id != ids[i] || b.nodes[std::size_t(v.id)].need_grad != (i % 2 == 0)) return false;
    }
    if (b.nodes.size() != std::size_t(n) || b.failed) return false;
    // the same key under a scope: "s/layer0/0/W" is a different parameter
    {
        auto s = b.scope("s");
        if (b.parameter("layer0/0/W", {1}).id != n) return false;
    }
    for (int i = 0; i < n; i += 97) {  // brute force: exactly one node per key
        name_string k = key(i);
        int found = 0;
        for (const node& x : b.nodes) found += x.name == k.view();
        if (found != 1) return false;
    }
    return true;
}
static_assert(parameter_index_holds());

// Nodes written directly (a lifted graph copied in) are found after the index is marked stale, and a
// shape conflict is still reported.
constexpr bool stale_index_rebuilt() {
    builder b;
    for (std::size_t i = 0; i < DG.size(); ++i) b.nodes.push_back(DG.nodes[i]);
    b.parameter_index_stale();
    if (b.parameter("shared/W", {3, 3, 3, 3}).id != 2 || b.nodes.size() != DG.size()) return false;
    b.parameter("shared/W", {3, 3, 1, 1});
    return b.failed && b.error.view().starts_with("Parameter 'shared/W' already exists with shape (3,3,3,3)");
}
static_assert(stale_index_rebuilt());

}  // namespace

TEST_CASE("graph indexes: position and consumers agree with a scan of the graph") {
    CHECK(indexes_agree(DG));
    CHECK(DG.num_consumers(1) == 2);
    CHECK(indexes_agree(network<deep>::graph));
}

TEST_CASE("builder: the parameter index finds every key, with sharing and scopes") {
    CHECK(parameter_index_holds());
    CHECK(stale_index_rebuilt());
}
