# Sourced by bench/compile_scaling.sh and bench/compile_budgets.sh: the generated translation units of
# issue 16's compile-time measurements, defined once so that the budget TU is, by construction, the
# scaling script's `frozen` stage without its live executor.
#
#   kata_tu_net_info <net>                       -> "header|network type|nodes"
#   kata_write_tu <net> <stage> <kata_inc> <out>  writes the TU
#
# nets:   headers (the stage's includes, no network), chain-<N>, resnet-50, resnet-101, resnet-152
# stages: lift     kata::network<...> (the graph lifted into a type)
#         convert  + kata::convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>
#         live     + kata::cpu::executor<converted> instantiated (constructor and call)
#         frozen   + kata::cpu::frozen_executor<converted> instantiated as well
#         budget   lift + convert + frozen executor only (issue 16 point 3's budget TU)

kata_tu_net_info() {
    case $1 in
    headers) echo "kata/kata.hpp||-" ;;
    chain-*) local n=${1#chain-}; echo "models/chain.hpp|kata::models::chain_net<$n>|$((8 * n + 1))" ;;
    resnet-50) echo "models/resnet.hpp|kata::models::resnet50_net<1>|442" ;;
    resnet-101) echo "models/resnet.hpp|kata::models::resnet101_net<1>|867" ;;
    resnet-152) echo "models/resnet.hpp|kata::models::resnet152_net<1>|1292" ;;
    *) echo "compile_tu.sh: unknown network '$1'" >&2; return 2 ;;
    esac
}

kata_write_tu() {
    local net=$1 stage=$2 kata_inc=$3 out=$4 info header def nodes convert=0 live=0 frozen=0
    info=$(kata_tu_net_info "$net") || return 2
    header=${info%%|*}; def=${info#*|}; def=${def%|*}; nodes=${info##*|}
    case $stage in
    lift) ;;
    convert) convert=1 ;;
    live) convert=1; live=1 ;;
    frozen) convert=1; live=1; frozen=1 ;;
    budget) convert=1; frozen=1 ;;
    *) echo "compile_tu.sh: unknown stage '$stage'" >&2; return 2 ;;
    esac
    {
        echo "#include <$header>"
        if ((convert)); then echo "#include <kata/converters.hpp>"; fi
        # The executors without parameter creation and .npz I/O (kata/cpu_executor.hpp, what a TU that
        # only builds and runs a network includes); kata/cpu.hpp for an include directory without it.
        if ((live || frozen)); then
            if [[ -f $kata_inc/kata/cpu_executor.hpp ]]; then echo "#include <kata/cpu_executor.hpp>"
            else echo "#include <kata/cpu.hpp>"; fi
        fi
        if [[ $net != headers ]]; then
            echo "using Net = kata::network<$def>;"
            echo "static_assert(Net::graph.size() == $nodes, \"node count\");"
            if ((convert)); then
                cat <<'EOF'
using Inference = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{}>;
static_assert(Inference::graph.count(kata::op_kind::batch_normalization) == 0, "every BN folded");
EOF
            fi
            if ((live || frozen)); then
                cat <<'EOF'
// One forward pass on an executor of the converted graph (its only input, NHWC).
template <class Executor>
float run_once(kata::parameter_store& store, const float* x) {
    constexpr const auto& g = Inference::graph;
    constexpr int in = [] {
        for (std::size_t i = 0; i < g.size(); ++i)
            if (g.nodes[i].op == kata::op_kind::input) return int(i);
        return -1;
    }();
    constexpr kata::shape_t s = g.nodes[in].shape;
    Executor run(store);
    auto xin = xt::adapt(x, std::size_t(s.numel()), xt::no_ownership(),
                         std::array<std::size_t, 4>{std::size_t(s.dims[0]), std::size_t(s.dims[1]),
                                                    std::size_t(s.dims[2]), std::size_t(s.dims[3])});
    return run(xin).data()[0];
}
EOF
            fi
            if ((live)); then
                cat <<'EOF'
float run_live(kata::parameter_store& store, const float* x) {
    return run_once<kata::cpu::executor<Inference>>(store, x);
}
EOF
            fi
            if ((frozen)); then
                cat <<'EOF'
float run_frozen(kata::parameter_store& store, const float* x) {
    return run_once<kata::cpu::frozen_executor<Inference>>(store, x);
}
EOF
            fi
        fi
    } > "$out"
}
