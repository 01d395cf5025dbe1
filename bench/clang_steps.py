#!/usr/bin/env python3
"""clang's constant-evaluation steps per evaluation of kata's compile-time pipeline (issue 16 point 1).

clang bounds every constant evaluation at -fconstexpr-steps (2^20 = 1,048,576 by default) and prints no
count, so this script measures one: the smallest limit at which a translation unit still compiles
(-fsyntax-only, bisection to ~0.1 %). To measure each stage alone, the graph that enters it is written
as a literal (the g++-built dumper prints every lifted graph of the pipeline as std::bit_cast data),
so a stage's TU evaluates nothing big besides that stage:

    lift          kata::network<net> (the network function run twice: sizes, then the graph)
    add_bias      the AddBias pass of BatchNormalizationFoldingModifier, on the lifted graph
    bn_folding    its folding pass, on AddBias's result
    channel_last  ChannelLastModifier, on the folded graph
    live          kata::cpu::executor of the converted graph (plans, kernels' constants)
    frozen        kata::cpu::frozen_executor of it

With --profile STAGE it also samples where the evaluation is at N evenly spaced step counts (the
backtrace clang prints when a limit is hit) and prints the share of samples per function.

usage: bench/clang_steps.py [--net chain-400|resnet-50|resnet-101|resnet-152] [--clang clang++-14]
                            [--profile STAGE [--samples N]]
"""
import argparse, collections, concurrent.futures as cf, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETS = {"resnet-50": ("models/resnet.hpp", "kata::models::resnet50_net<1>"),
        "resnet-101": ("models/resnet.hpp", "kata::models::resnet101_net<1>"),
        "resnet-152": ("models/resnet.hpp", "kata::models::resnet152_net<1>")}

DUMPER = r'''
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <HEADER>
#include <kata/converters.hpp>
using Net = kata::network<NETWORK>;
using S1 = kata::convert<Net, kata::AddBiasModifier{}>;
using S2 = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}>;
using S3 = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{}>;
template <class T>
void dump(const char* name, std::FILE* f) {
    constexpr const auto& g = T::graph;
    using G = std::remove_cvref_t<decltype(g)>;
    static_assert(sizeof(G) % 8 == 0);
    std::fprintf(f, "struct %s {\nusing graph_t = kata::graph<%zu, %zu, %zu>;\n", name, g.nodes.size(),
                 g.edges.size(), g.outputs.size());
    std::fprintf(f, "static constexpr std::array<std::uint64_t, %zu> raw_{", sizeof(G) / 8);
    for (std::size_t i = 0; i < sizeof(G) / 8; ++i) {
        unsigned long long w;
        std::memcpy(&w, reinterpret_cast<const char*>(&g) + 8 * i, 8);
        std::fprintf(f, w ? "%#llx," : "0,", w);
        if (i % 64 == 63) std::fputc('\n', f);
    }
    std::fprintf(f, "};\nstatic constexpr graph_t graph = std::bit_cast<graph_t>(raw_);\n};\n");
}
int main(int, char** argv) {
    std::FILE* f = std::fopen(argv[1], "w");
    std::fprintf(f, "#pragma once\n#include <array>\n#include <bit>\n#include <cstdint>\n"
                    "#include <kata/core/graph.hpp>\nnamespace steps {\n");
    dump<Net>("lifted", f);
    dump<S1>("after_add_bias", f);
    dump<S2>("after_bn_folding", f);
    dump<S3>("converted", f);
    std::fprintf(f, "}\n");
    return std::fclose(f) == 0 ? 0 : 1;
}
'''

STAGES = {
    "lift": "#include <HEADER>\nusing Net = kata::network<NETWORK>;\nstatic_assert(Net::graph.size() > 0);\n",
    "add_bias": '#include "graphs.hpp"\n#include <kata/converters.hpp>\n'
                "static_assert(kata::convert<steps::lifted, kata::AddBiasModifier{}>::graph.size() > 0);\n",
    "bn_folding": '#include "graphs.hpp"\n#include <kata/converters.hpp>\n'
                  "static_assert(kata::convert<steps::after_add_bias, kata::detail::bn_folding_either{}>"
                  "::graph.size() > 0);\n",
    "channel_last": '#include "graphs.hpp"\n#include <kata/converters.hpp>\n'
                    "static_assert(kata::convert<steps::after_bn_folding, kata::ChannelLastModifier{}>"
                    "::graph.size() > 0);\n",
}
EXECUTOR = '''#include "graphs.hpp"
#include <kata/cpu_executor.hpp>
xt::xarray<float> run(kata::parameter_store& store, const xt::xarray<float>& x) {
    kata::cpu::EXECUTOR<steps::converted> e(store);
    return e(x);
}
'''
STAGES["live"] = EXECUTOR.replace("EXECUTOR", "executor")
STAGES["frozen"] = EXECUTOR.replace("EXECUTOR", "frozen_executor")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", default="chain-400")
    ap.add_argument("--clang", default="clang++-14")
    ap.add_argument("--gxx", default="g++")
    ap.add_argument("--include", default=os.path.join(ROOT, "include"))
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--profile", default="")
    ap.add_argument("--samples", type=int, default=40)
    a = ap.parse_args()
    if a.net.startswith("chain-"):
        header, network = "models/chain.hpp", f"kata::models::chain_net<{int(a.net[6:])}>"
    else:
        header, network = NETS[a.net]
    work = tempfile.mkdtemp(prefix="kata-clang-steps-")
    incs = ["-I" + a.include, "-I" + os.path.join(ROOT, "examples"), "-I" + work, "-I/usr/include/xtensor-blas"]

    def fill(text):
        return text.replace("HEADER", header).replace("NETWORK", network)

    with open(os.path.join(work, "dump.cpp"), "w") as f:
        f.write(fill(DUMPER))
    subprocess.run([a.gxx, "-std=c++20", "-O0", "-fconstexpr-ops-limit=68719476736", *incs, "dump.cpp", "-o", "dump"],
                   cwd=work, check=True)
    subprocess.run(["./dump", "graphs.hpp"], cwd=work, check=True)

    def compile_at(src, steps):
        cmd = [a.clang, "-std=c++20", "-fsyntax-only", "-DNDEBUG", f"-fconstexpr-steps={steps}",
               "-fconstexpr-backtrace-limit=0", *incs, src]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
        return r.returncode == 0, r.stderr

    def steps_of(src):
        lo, hi = 1000, 1 << 20
        while not compile_at(src, hi)[0]:
            lo, hi = hi, 2 * hi
            if hi > 1 << 30:
                sys.exit(f"{src} does not compile at 2^30 steps:\n" + compile_at(src, hi)[1][-3000:])
        while hi - lo > max(200, hi // 1000):
            mid = (lo + hi) // 2
            if compile_at(src, mid)[0]:
                hi = mid
            else:
                lo = mid
        return hi

    print(f"# {a.net}: clang constant-evaluation steps of the largest evaluation per stage ({a.clang}; "
          f"default limit 2^20 = 1,048,576)")
    totals = {}
    for stage in a.stages.split(","):
        src = os.path.join(work, stage + ".cpp")
        with open(src, "w") as f:
            f.write(fill(STAGES[stage]))
        totals[stage] = steps_of(src)
        print(f"{stage:13s} {totals[stage]:>10,d}  {100 * totals[stage] / (1 << 20):5.1f} % of 2^20", flush=True)

    if a.profile:
        src = os.path.join(work, a.profile + ".cpp")
        total = totals.get(a.profile) or steps_of(src)
        limits = [int(total * (i + 0.5) / a.samples) for i in range(a.samples)]

        def where(limit):  # the call stack at the step the limit stopped, innermost first
            err = compile_at(src, limit)[1].splitlines()
            out, started = [], False
            for line in err:
                if "hit maximum step limit" in line:
                    started = True
                elif started:
                    m = re.search(r"note: in call to '([^(]*)", line)
                    if m:
                        out.append(re.sub(r"^.*[.>]", "", m.group(1)))
                    elif "error:" in line:
                        break
            return out

        with cf.ThreadPoolExecutor(os.cpu_count() or 1) as ex:
            stacks = list(ex.map(where, limits))
        inclusive = collections.Counter(f for s in stacks for f in set(s))
        innermost = collections.Counter(s[0] for s in stacks if s)
        print(f"\n# {a.profile}: share of {a.samples} samples (inclusive | innermost call)")
        for f, c in inclusive.most_common(30):
            print(f"{c / a.samples:6.2f} | {innermost[f] / a.samples:5.2f}  {f}")


if __name__ == "__main__":
    main()
