// kata/exec/memory_plan.hpp
//
// Compile-time activation memory planning for a graph type (backend-neutral: every executor uses it).
//
// Every function output lives in one arena owned by the executor's storage. The plan is a constexpr
// function over the lifted graph:
//  * Reshape and Identity alias their input (no copy, no kernel call);
//  * an element-wise unary op whose input buffer dies at that op writes in place;
//  * the remaining buffers get offsets by greedy best-fit over their live ranges (largest first), so
//    buffers whose lifetimes do not overlap share memory.
// Graph outputs stay alive to the end. Inputs and parameters are never written (they are external).
// Because the plan is a constant, the arena size is known at compile time: exec::static_arena places
// it in a member buffer (no heap at all, kata/exec/storage.hpp).
// Fusions are graph rewrites (e.g. kata/converters/fuse_convolution_epilogue.hpp): a fused node is an
// ordinary node here, with its own buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/graph.hpp"

namespace kata::exec {

inline constexpr std::size_t arena_alignment = 64;

template <std::size_t N>
struct memory_plan {
    // Storage root of each node's output: itself for owned buffers, the aliased node otherwise.
    std::array<int, N> root{};
    std::array<bool, N> aliased{};         // Reshape/Identity: no kernel call, shares the root buffer
    std::array<bool, N> in_place{};        // writes into its input's buffer
    std::array<std::int64_t, N> offset{};  // byte offset in the arena (owned roots only), -1 = external
    std::array<std::int64_t, N> bytes{};
    std::int64_t arena_bytes = 0;
    std::int64_t naive_bytes = 0;  // sum of all owned buffers, for reports
};

namespace detail {

constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) { return (v + a - 1) / a * a; }

// Stable merge sort of ids[0..n) by `before(a, b)` (a strict order), with scratch tmp[0..n).
// O(n log n); raw pointers (container calls cost evaluation steps in constant evaluation).
template <class Before>
constexpr void stable_sort_ids(int* ids, int* tmp, int n, Before before) {
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            const int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = before(ids[j], ids[i]) ? ids[j++] : ids[i++];
            while (i < mid) tmp[k++] = ids[i++];
            while (j < hi) tmp[k++] = ids[j++];
        }
        for (int k = 0; k < n; ++k) ids[k] = tmp[k];
    }
}

// The plan (see the header comment). O(N log N + L) plus the sweeps below, where L = the length of the
// live lists read by list placements (small: a list placement is chosen only when few buffers overlap;
// O(N) when a bounded number of buffers is alive at once, as in chains and residual networks): group
// bookkeeping is incremental, live counts come from a difference array, the size order is a merge
// sort, and each buffer's best fit looks only at the placed buffers alive during its own live range,
// swept in offset order. Issue 16: the previous version re-scanned every node for every element-wise op and
// every placed buffer for every candidate offset (O(N^2) and worse); this one computes the same plan.
// The placement of the roots [0, placed_roots) in size order (see make_memory_plan_part).
template <std::size_t N>
struct memory_plan_part {
    memory_plan<N> plan{};
    std::array<int, N> by_offset{};  // the placed roots in offset order
    int nsorted = 0;
    int placed_roots = 0;
};

// Part `part` of `parts` of the plan: places the roots [nroots * part / parts, nroots * (part + 1) / parts)
// of the size order, continuing from `prev` (the part before; ignored for part 0). Why parts: g++ bounds
// each constant evaluation (-fconstexpr-ops-limit, 2^25 by default), and a training graph keeps its
// forward activations alive across the backward pass, so hundreds of buffers overlap each one and the
// best fit of ResNet-50's training graph alone needs ~2^26 operations. The executor evaluates the plan
// as a few constants in a row (schedule::plan); each recomputes the cheap O(N + live area) bookkeeping
// and places its share of the roots. The result is the same plan as one evaluation.
template <std::size_t N, std::size_t E, std::size_t O>
constexpr memory_plan_part<N> make_memory_plan_part(const graph<N, E, O>& g, const memory_plan_part<N>& prev,
                                                    int part, int parts) {
    memory_plan_part<N> out{};
    memory_plan<N>& p = out.plan;
    const int* pos = g.position.data();  // position in execution order, -1 for leaves and dead nodes
    const int* order = g.order.data();
    const node* nd = g.nodes.data();
    const int* ed = g.edges.data();
    int* root = p.root.data();
    std::int64_t* offset = p.offset.data();
    std::int64_t* bytes = p.bytes.data();
    for (std::size_t i = 0; i < N; ++i) {
        root[i] = int(i);
        offset[i] = -1;
    }
    const int end = g.num_order;  // "alive until the end"
    // last_read[i] = last execution position of a function reading node i directly.
    std::array<int, N> last_read_a{};
    int* last_read = last_read_a.data();
    for (std::size_t i = 0; i < N; ++i) last_read[i] = -1;
    for (int t = 0; t < end; ++t) {
        const node& f = nd[order[t]];
        for (int k = 0; k < f.num_inputs; ++k) last_read[ed[f.first_input + k]] = t;
    }
    // Per group root: the last read of any member so far, and whether a member is a graph output.
    // A node joins a group when it runs, before anything reads it, so both can be kept up to date
    // as nodes join instead of scanning the members.
    std::array<int, N> group_read_a{};
    std::array<bool, N> group_output_a{};
    int* group_read = group_read_a.data();
    bool* group_output = group_output_a.data();
    for (std::size_t i = 0; i < N; ++i) group_read[i] = pos[i] >= 0 ? last_read[i] : -1;
    for (std::size_t o = 0; o < O; ++o)
        if (pos[g.outputs[o]] >= 0) group_output[g.outputs[o]] = true;
    auto join = [&](int f, int r) {
        root[f] = r;
        if (group_read[r] < last_read[f]) group_read[r] = last_read[f];
        group_output[r] = group_output[r] || group_output[f];
    };
    // One pass in execution order: aliases join their input's group; an element-wise unary op joins
    // (writes into) its input's group when that group is an owned buffer that nobody reads later and
    // that holds no graph output.
    for (int t = 0; t < end; ++t) {
        const int f = order[t];
        const node& n = nd[f];
        if ((n.op == op_kind::reshape || n.op == op_kind::identity) && n.num_inputs == 1) {
            p.aliased[std::size_t(f)] = true;
            join(f, root[ed[n.first_input]]);
        } else if (is_elementwise_unary(n.op) && n.num_inputs == 1) {
            const int r = root[ed[n.first_input]];
            if (!is_leaf(nd[r].op) && !(group_read[r] > t) && !group_output[r]) {
                p.in_place[std::size_t(f)] = true;
                join(f, r);
            }
        }
    }
    // Live range of each group: from its root's position to the last read of any member.
    std::array<int, N> first_a{}, last_a{};
    int* first = first_a.data();
    int* last = last_a.data();
    for (std::size_t i = 0; i < N; ++i) {
        first[i] = end + 1;
        last[i] = -1;
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (pos[i] < 0) continue;
        const int r = root[i];
        if (first[r] > pos[i]) first[r] = pos[i];
        if (last[r] < pos[i]) last[r] = pos[i];
        if (last[r] < last_read[i]) last[r] = last_read[i];
    }
    for (std::size_t o = 0; o < O; ++o) last[root[g.outputs[o]]] = end;

    // Owned roots: function nodes that are their own root (not aliases of leaves), not Sink. A root
    // runs first in its group, so its live range starts at its own position: at most one owned
    // buffer starts per execution step.
    std::array<int, N> roots_a{}, tmp_a{};
    int* roots = roots_a.data();
    int* tmp = tmp_a.data();
    std::array<int, N + 1> starting_a{};  // the owned root starting at each step, or -1
    int* starting = starting_a.data();
    for (int t = 0; t <= end; ++t) starting[t] = -1;
    int nroots = 0;
    for (int t = 0; t < end; ++t) {
        const int f = order[t];
        const node& n = nd[f];
        if (root[f] != f || n.op == op_kind::sink) continue;
        bytes[f] = align_up(n.shape.numel() * dtype_size(n.type), arena_alignment);
        p.naive_bytes += bytes[f];
        roots[nroots++] = f;
        starting[t] = f;
    }
    // How many owned roots are alive at each step: a difference array, O(N + end).
    int* alive = new int[std::size_t(end) + 2]();
    for (int i = 0; i < nroots; ++i) {
        ++alive[first[roots[i]]];
        --alive[last[roots[i]] + 1];
    }
    for (int t = 1; t <= end; ++t) alive[t] += alive[t - 1];
    // Largest first, stable (ties keep execution order: deterministic plans).
    stable_sort_ids(roots, tmp, nroots, [&](int a, int b) { return bytes[a] > bytes[b]; });

    // Best fit: for each buffer, the lowest offset that does not collide with any placed buffer whose
    // live range overlaps; the candidates are 0 and the ends of those buffers. Those buffers are the
    // ones alive at the buffer's first step that started earlier, and the ones starting during its
    // range. Swept in offset order, the lowest candidate that fits is found in one pass: move past
    // every buffer that begins below the current candidate's end; a candidate skipped over collides
    // with the buffer that moved the sweep past it.
    // starts_upto[t] = owned buffers starting at steps 0..t.
    std::array<int, N + 1> starts_upto_a{};
    int* starts_upto = starts_upto_a.data();
    for (int t = 0; t < end; ++t)
        starts_upto[t] = (t > 0 ? starts_upto[t - 1] : 0) + (starting[t] >= 0 ? 1 : 0);
    const int i_begin = int(std::int64_t(nroots) * part / parts);
    const int i_end = int(std::int64_t(nroots) * (part + 1) / parts);
    // How many buffers may overlap root f (alive at its first step, or starting in its range), and
    // whether its best fit sweeps every placed buffer (many overlap: a training graph's forward
    // activations) or looks at the list of those alive at its first step.
    auto overlap_bound = [&](int f) {
        return std::int64_t(alive[first[f]]) +
               (starts_upto[last[f] < end ? last[f] : end - 1] - starts_upto[first[f]]);
    };
    auto sweeps_all = [&](int f, int i) {
        const std::int64_t bound = overlap_bound(f);
        int log2_bound = 0;
        while ((std::int64_t(1) << log2_bound) < bound) ++log2_bound;
        return bound > 16 && bound * log2_bound > 2 * std::int64_t(i);
    };
    // The lists of owned roots alive at a step (CSR over steps 0..end), built only at the steps where
    // this part reads them: the first step of each root it places through its list. A full list at
    // every step costs the sum of all live ranges, quadratic in a training graph (forward activations
    // stay alive across the backward pass); these lists cost O(N + their own length).
    int* next_read = new int[std::size_t(end) + 2]();  // smallest step >= t whose list is read, or end + 1
    for (int t = 0; t <= end + 1; ++t) next_read[t] = end + 1;
    for (int i = i_begin; i < i_end; ++i)
        if (!sweeps_all(roots[i], i)) next_read[first[roots[i]]] = first[roots[i]];
    for (int t = end; t >= 0; --t)
        if (next_read[t] > end) next_read[t] = next_read[t + 1];
    int* live_first = new int[std::size_t(end) + 2]();
    for (int t = 0; t < end; ++t) {  // roots in execution order: deterministic lists
        const int r = starting[t];
        if (r < 0) continue;
        for (int s = next_read[first[r]]; s <= last[r]; s = next_read[s + 1]) ++live_first[s + 1];
    }
    for (int t = 0; t <= end; ++t) live_first[t + 1] += live_first[t];
    int* live = new int[std::size_t(live_first[end + 1]) + 1]();
    {
        int* fill = new int[std::size_t(end) + 1]();
        for (int t = 0; t <= end; ++t) fill[t] = live_first[t];
        for (int t = 0; t < end; ++t) {
            const int r = starting[t];
            if (r < 0) continue;
            for (int s = next_read[first[r]]; s <= last[r]; s = next_read[s + 1]) live[fill[s]++] = r;
        }
        delete[] fill;
    }
    std::array<bool, N> placed_a{};
    bool* placed = placed_a.data();
    std::array<int, N> near_a{};
    int* near = near_a.data();
    // The placed roots in offset order (by_offset[0, nsorted)) plus those placed since that list was
    // last brought up to date (pending[0, npending)).
    int* by_offset = out.by_offset.data();
    std::array<int, N> pending_a{};
    int* pending = pending_a.data();
    int nsorted = 0, npending = 0;
    if (part > 0) {
        for (int i = 0; i < i_begin; ++i) {
            offset[roots[i]] = prev.plan.offset[std::size_t(roots[i])];
            placed[roots[i]] = true;
        }
        p.arena_bytes = prev.plan.arena_bytes;
        nsorted = prev.nsorted;
        for (int j = 0; j < nsorted; ++j) by_offset[j] = prev.by_offset[std::size_t(j)];
    }
    auto bring_up_to_date = [&] {
        if (npending == 0) return;
        stable_sort_ids(pending, tmp, npending, [&](int a, int b) { return offset[a] < offset[b]; });
        // Merged in place from the back (by_offset has room for every root); on equal offsets the
        // placed-earlier list comes first, as a stable merge from the front would give.
        int a = nsorted - 1, b = npending - 1, k = nsorted + npending - 1;
        while (b >= 0)
            by_offset[k--] =
                a >= 0 && offset[by_offset[a]] > offset[pending[b]] ? by_offset[a--] : pending[b--];
        nsorted += npending;
        npending = 0;
    };
    for (int i = i_begin; i < i_end; ++i) {
        const int f = roots[i];
        const std::int64_t sz = bytes[f];
        std::int64_t best = 0;
        if (sweeps_all(f, i)) {
            // Many overlapping buffers (a training graph's forward activations): sweep every placed
            // buffer in offset order, skipping those whose live range misses this one's. Same
            // candidates in the same order as sorting the overlapping ones, O(placed) instead of
            // O(k log k) with a large k.
            bring_up_to_date();
            for (int j = 0; j < nsorted; ++j) {
                const int o = by_offset[j];
                if (first[o] > last[f] || last[o] < first[f]) continue;  // live ranges do not overlap
                if (offset[o] >= best + sz) break;
                if (best < offset[o] + bytes[o]) best = offset[o] + bytes[o];
            }
        } else {
            int count = 0;
            for (int j = live_first[first[f]]; j < live_first[first[f] + 1]; ++j) {
                const int o = live[j];
                if (placed[o] && first[o] < first[f]) near[count++] = o;
            }
            for (int t = first[f] + 1; t <= last[f] && t < end; ++t)
                if (starting[t] >= 0 && placed[starting[t]]) near[count++] = starting[t];
            stable_sort_ids(near, tmp, count, [&](int a, int b) { return offset[a] < offset[b]; });
            for (int j = 0; j < count; ++j) {
                const int o = near[j];
                if (offset[o] >= best + sz) break;
                if (best < offset[o] + bytes[o]) best = offset[o] + bytes[o];
            }
        }
        offset[f] = best;
        placed[f] = true;
        pending[npending++] = f;
        if (best + sz > p.arena_bytes) p.arena_bytes = best + sz;
    }
    bring_up_to_date();
    out.nsorted = nsorted;
    out.placed_roots = i_end;
    delete[] live;
    delete[] live_first;
    delete[] next_read;
    delete[] alive;
    return out;
}

// The whole plan in one constant evaluation (small graphs, tests); executors evaluate it in parts.
template <std::size_t N, std::size_t E, std::size_t O>
constexpr memory_plan<N> make_memory_plan(const graph<N, E, O>& g) {
    return make_memory_plan_part(g, memory_plan_part<N>{}, 0, 1).plan;
}

}  // namespace detail

template <graph_type Net>
inline constexpr auto memory_plan_of = detail::make_memory_plan(Net::graph);

}  // namespace kata::exec
