// kata/ops/common.hpp
//
// Shared pieces of the op definitions: the `none` variable, diagnostic helpers that format op, scope
// and shapes, and what every op header needs for its descriptor (descriptor.hpp: the `dims` argument
// type, Hana-adapted argument structs) and its keyword overloads (keywords.hpp).
#pragma once

#include <cstdint>
#include <initializer_list>

#include "../core/builder.hpp"
#include "backward_rules.hpp"
#include "descriptor.hpp"
#include "keywords.hpp"

namespace kata {

// "No variable": pass where nnabla accepts None (a missing bias, beta, gamma or residual).
inline constexpr var none{};
constexpr bool is_none(var v) { return v.id < 0; }

namespace detail {

// The first n entries of an attribute array as a kata::dims (a node's pad, stride...).
constexpr dims dims_of(const std::int64_t (&v)[max_spatial], int n) {
    dims d;
    d.n = n;
    for (int i = 0; i < n && i < max_spatial; ++i) d.v[i] = v[i];
    return d;
}

constexpr message_string& append_var(message_string& m, const char* what, var v) {
    m.append(what).append(" ");
    append_shape(m, v.shape());
    return m;
}

// Checks `d` (if given) has exactly `want` entries, fills `out` (default `dflt`). Returns false
// (after recording a diagnostic) when it does not.
constexpr bool take_dims(builder& g, op_kind k, const char* what, const dims& d, int want,
                         std::int64_t (&out)[max_spatial], std::int64_t dflt) {
    for (int i = 0; i < max_spatial; ++i) out[i] = 0;
    if (!d.given()) {
        for (int i = 0; i < want; ++i) out[i] = dflt;
        return true;
    }
    if (d.n != want) {
        auto m = g.prefix(k);
        m.append(what).append(" has ").append_int(d.n).append(" entries but the op has ").append_int(want);
        m.append(" spatial dimensions");
        g.fail(m);
        return false;
    }
    for (int i = 0; i < want; ++i) out[i] = d[i];
    return true;
}

constexpr bool same_builder(builder& g, var a, var b) { return b.g == &g || is_none(b); }

// Numpy-style broadcasting of two shapes (nnabla's Add2 etc. broadcast since v1.x).
constexpr bool broadcast_shapes(const shape_t& a, const shape_t& b, shape_t& out) {
    int r = a.rank > b.rank ? a.rank : b.rank;
    out = shape_t{};
    out.rank = r;
    for (int i = 0; i < r; ++i) {
        std::int64_t da = i - (r - a.rank) >= 0 ? a.dims[i - (r - a.rank)] : 1;
        std::int64_t db = i - (r - b.rank) >= 0 ? b.dims[i - (r - b.rank)] : 1;
        if (da != db && da != 1 && db != 1) return false;
        out.dims[i] = da == 1 ? db : da;
    }
    return true;
}

// The layout an op's output inherits: the first input's, but only while the rank allows it.
constexpr layout inherit_layout(var x, const shape_t& out) { return out.rank >= 3 ? x.lay() : layout::none; }

// The layout check shared by the convolution family and pooling: a tensor whose layout is known must
// match the op's channel_last argument.
constexpr bool check_layout(builder& g, op_kind k, var x, bool channel_last) {
    layout want = channel_last ? layout::channel_last : layout::channel_first;
    if (x.lay() != layout::none && x.lay() != want) {
        auto m = g.prefix(k);
        append_var(m, "input x", x).append(" is ").append(layout_name(x.lay()));
        m.append(" but the op was called with channel_last=").append(channel_last ? "true" : "false");
        g.fail(m);
        return false;
    }
    return true;
}

}  // namespace detail
}  // namespace kata
