// kata/converters/fused_batch_normalization.hpp
//
// FusedBatchNormalizationModifier (nnabla, docs/nnabla-semantics.md §2.6): fuses
//     BN(h) -> Add2 -> ReLU   into  FusedBatchNormalization(h, beta, gamma, mean, var, z, relu)
//     BN(h) -> ReLU           into  FusedBatchNormalization(h, beta, gamma, mean, var, relu)
// where z is the Add2's other operand. The fused function REUSES the BN's own beta/gamma/mean/var
// parameters and arguments (axes, decay_rate, eps, batch_stat), so trained statistics are kept and no
// parameter is created.
//
// A pattern is fused only when it is private: the BN's output has exactly one consumer (the Add2 or
// the ReLU), the Add2's output has exactly one consumer (the ReLU), neither is a graph output, z has
// the BN's shape (no broadcasting), and the BN has beta and gamma.
//
// kata vs upstream: trained parameters kept (upstream creates fresh defaults under fused-<n>/, losing
// them); the BN -> ReLU pattern without residual is fused; the BN may be either Add2 operand
// (x + BN(h) and BN(h) + x); with a BN on both operands (projection shortcut) the one at operand 0 is
// fused and the other stays a BatchNormalization feeding z (upstream drops it); stateless, reusable.
#pragma once

#include "inner_product.hpp"

namespace kata {

struct FusedBatchNormalizationModifier {
    struct pattern {
        int add = -1;   // the Add2 (or -1 for BN -> ReLU)
        int relu = -1;  // the ReLU the fused function replaces (-1: no pattern)
        int z_slot = -1;
    };

    static constexpr bool fusable_bn(function_ref bn) {
        return bn.type() == op_kind::batch_normalization && !bn.attr().no_bias && !bn.attr().no_scale &&
               !bn.is_output() && bn.num_consumers() == 1;
    }

    // The pattern that BN `bn` (original graph) heads, if any.
    static constexpr pattern match(function_ref bn) {
        if (!fusable_bn(bn)) return {};
        const function_ref n = bn.consumer(0);
        if (n.type() == op_kind::relu) return {-1, n.id(), -1};
        if (n.type() != op_kind::add2 || n.is_output() || n.num_consumers() != 1 ||
            n.consumer(0).type() != op_kind::relu)
            return {};
        if (n.input_id(0) == n.input_id(1)) return {};  // BN(h) + BN(h)
        const int slot = n.input_id(0) == bn.id() ? 0 : 1;
        const function_ref other = n.input(1 - slot);
        if (!(other.shape() == bn.shape())) return {};
        // Two fusable BNs on one Add2: operand 0 wins.
        if (slot == 1 && !other.is_leaf() && fusable_bn(other)) return {};
        return {n.id(), n.consumer(0).id(), 1 - slot};
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (f.type() == op_kind::batch_normalization) return match(f).relu >= 0 ? inputs[0] : keep;
        if (f.type() == op_kind::add2) {
            for (int s = 0; s < 2; ++s) {
                const function_ref q = f.input(s);
                if (!q.is_leaf() && match(q).add == f.id())
                    return inputs[0];  // placeholder, only the ReLU reads it
            }
            return keep;
        }
        if (f.type() != op_kind::relu) return keep;
        const function_ref p = f.input(0);
        if (p.is_leaf()) return keep;
        if (p.type() == op_kind::batch_normalization) {
            const pattern m = match(p);
            return m.relu == f.id() && m.add < 0 ? fuse(c, p, none) : keep;
        }
        if (p.type() == op_kind::add2) {
            for (int s = 0; s < 2; ++s) {
                const function_ref q = p.input(s);
                if (q.is_leaf()) continue;
                const pattern m = match(q);
                if (m.add == p.id() && m.relu == f.id()) return fuse(c, q, c.mapped(p.input(m.z_slot)));
            }
        }
        return keep;
    }

private:
    static constexpr var fuse(modify_context& c, function_ref bn, var z) {
        auto guard = c.g.scope(bn.name());
        return F::fused_batch_normalization(c.mapped(bn.input(0)), c.mapped(bn.input(1)),
                                            c.mapped(bn.input(2)), c.mapped(bn.input(3)),
                                            c.mapped(bn.input(4)), z, detail::bn_args_of(bn.attr()));
    }
};

}  // namespace kata
