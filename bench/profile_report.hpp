// bench/profile_report.hpp -- per-layer report of an executor built with -DKATA_CPU_PROFILE.
//
// Shared by bench/resnet50_profile.cpp and bench/suite_worker.cpp (the suite's profiling builds). The
// executor accumulates each kernel call's time in `profile_ns_` (per node id); this prints every
// function node that ran (op, kind of layer, fused epilogue of a FusedConvolution, output shape, ms per pass, GFLOP/s of
// convolutions and Affine) and the totals per kind of layer. Convolutions are told apart by kernel,
// stride, dilation and groups ("depthwise" when every group has one input channel), so that a profile
// shows which shape of layer the time goes to; a convolution's kind ends with the kernel it ran on
// ([nhwc], [nhwc-rows], [depthwise-packed], [gemm], ...: kata::cpu::conv_path_name).
#pragma once

#include <kata/core/attributes.hpp>
#include <kata/core/op_kind.hpp>
#include <kata/cpu/kernels/fused_convolution.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

namespace kata_bench {

// The kernel each convolution node runs on (kata::cpu::conv_path_name: chosen at compile time from the
// node's op instance), "" for other nodes.
template <class Run, class Exec, int Id>
constexpr const char* kernel_path() {
    constexpr kata::op_kind op = Run::graph.nodes[std::size_t(Id)].op;
    if constexpr (op == kata::op_kind::convolution || op == kata::op_kind::fused_convolution)
        return kata::cpu::conv_path_name<Exec::template instance<Id>>();
    else
        return "";
}
template <class Run, class Exec, std::size_t... I>
constexpr std::array<const char*, sizeof...(I)> kernel_paths(std::index_sequence<I...>) {
    return {kernel_path<Run, Exec, int(I)>()...};
}

template <class Run, class Exec>
void print_profile(const Exec& run, int passes) {
    constexpr const auto& g = Run::graph;
    static constexpr auto paths = kernel_paths<Run, Exec>(std::make_index_sequence<g.size()>{});
    std::map<std::string, double> by_kind;
    std::map<std::string, double> flops_by_kind;
    double total = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int id = g.order[t];
        const auto& n = g.nodes[std::size_t(id)];
        const double ms = run.profile_ns_[std::size_t(id)] / passes / 1e6;
        if (ms <= 0) continue;
        std::string kind(kata::type_name(n.op));
        double flops = 0;
        std::string extra;
        if (n.op == kata::op_kind::convolution || n.op == kata::op_kind::fused_convolution) {
            const auto& x = g.input_node(id, 0).shape;
            const auto& w = g.input_node(id, 1).shape;  // (O, C/g, k..) or (O, k.., C/g)
            double macs = double(n.shape.numel());
            for (int d = 1; d < w.rank; ++d) macs *= double(w.dims[d]);
            flops = 2 * macs;
            const std::int64_t cin = n.attr.channel_last ? x.dims[x.rank - 1] : x.dims[1];
            kind += " k" + std::to_string(n.attr.kernel[0]) + "s" + std::to_string(n.attr.stride[0]);
            if (n.attr.dilation[0] > 1) kind += "d" + std::to_string(n.attr.dilation[0]);
            if (n.attr.group > 1)
                kind += n.attr.group == cin ? " depthwise" : " g" + std::to_string(n.attr.group);
            if (cin <= 4) kind += " c" + std::to_string(cin);          // stems: few input channels
            kind += std::string(" [") + paths[std::size_t(id)] + "]";  // the kernel it ran on
            if (n.op == kata::op_kind::fused_convolution) {            // the epilogue fusion converter's node
                if (n.attr.has_residual) extra += "+add";
                if (n.attr.nonlinearity == kata::nonlinearity_kind::relu) extra += "+relu";
            }
        } else if (n.op == kata::op_kind::affine) {
            const auto& w = g.input_node(id, 1).shape;
            flops = 2 * double(n.shape.numel()) * double(w.dims[0]);
        }
        by_kind[kind] += ms;
        flops_by_kind[kind] += flops;
        total += ms;
        std::printf("%-32.32s %-40s %-10s (", std::string(n.name.view()).c_str(), kind.c_str(),
                    extra.c_str());
        for (int d = 0; d < n.shape.rank; ++d)
            std::printf("%s%lld", d ? "," : "", (long long)n.shape.dims[d]);
        std::printf(")  %8.4f ms", ms);
        if (flops > 0) std::printf("  %6.1f GFLOP/s", flops / (ms * 1e6));
        std::printf("\n");
    }
    std::printf("\nper kind:\n");
    for (auto& [k, v] : by_kind) {
        std::printf("  %-42s %8.4f ms  %5.1f %%", k.c_str(), v, 100 * v / total);
        if (flops_by_kind[k] > 0) std::printf("  %6.1f GFLOP/s", flops_by_kind[k] / (v * 1e6));
        std::printf("\n");
    }
    std::printf("sum of kernels %.3f ms per pass\n", total);
}

}  // namespace kata_bench
