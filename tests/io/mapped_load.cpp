// Loading foreign parameter files through a name mapping (issue 15, finding 10): rename rules,
// per-tensor reshape/transpose, the same errors and strong guarantee as a plain load, and the
// ready-made torchvision ResNet-50 rule set (examples/models/resnet50_torchvision.hpp) checked
//  * against a numpy.savez'd subset of a real torchvision resnet50 state dict (every rule, values
//    compared with the source tensors after a transform written out independently here), and
//  * against the full list of torchvision's resnet50 state-dict entries and kata's ResNet-50 graph
//    (every entry maps to a kata parameter of the right shape, every kata parameter is covered).
// Fixtures: tools/fixtures/make_torchvision_fixtures.py (torchvision 0.14) and make_npz_fixtures.py.
#include "io_test_support.hpp"

#include <doctest/doctest.h>

#include <kata/io/name_mapping.hpp>
#include <kata/io/parameter_store.hpp>
#include <kata/parameters.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/resnet50_torchvision.hpp"

using namespace kata_test;
using kata::initializer;
using kata::load_mode;
using kata::parameter_store;
namespace kio = kata::io;
using kio::rename_rule;
using kio::tensor_transform;

namespace {

template <class E = kata::io_error>
std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception of the expected type>";
}

std::optional<std::string> map_name(const kio::name_mapping& m, const std::string& n) {
    auto r = kio::apply_mapping(m, n, "t");
    return r ? std::optional<std::string>(r->name) : std::nullopt;
}

std::vector<std::size_t> shape_of(const xt::xarray<float>& a) { return {a.shape().begin(), a.shape().end()}; }

}  // namespace

TEST_CASE("rename rules: '*' is one name component, '**' several, captures fill the replacement in order") {
    kio::name_mapping m;
    m.rules = {
        rename_rule::skip("**.num_batches_tracked"),
        {"layer*.*.bn*.weight", "layer*/*/conv*/bn/gamma"},
        {"a*b.*", "x/*/*"},
        {"deep.**.leaf", "deep/**"},
        {"fc.weight", "fc/affine/W"},
    };
    kio::check_mapping(m);
    CHECK(map_name(m, "layer3.12.bn2.weight") == "layer3/12/conv2/bn/gamma");
    CHECK(map_name(m, "layer1.0.bn1.num_batches_tracked") == std::nullopt);
    CHECK(map_name(m, "bn1.num_batches_tracked") == std::nullopt);
    CHECK(map_name(m, "aXYb.z") == "x/XY/z");
    CHECK(map_name(m, "deep.p.q.r.leaf") == "deep/p.q.r");
    CHECK(map_name(m, "fc.weight") == "fc/affine/W");
    // '*' never crosses '.', and every wildcard needs at least one character.
    CHECK(
        contains(what_of([&] { (void)map_name(m, "layer1.0.0.bn1.weight"); }), "t: no rename rule matches"));
    CHECK(contains(what_of([&] { (void)map_name(m, "ab.z"); }), "no rename rule matches"));
    CHECK(contains(what_of([&] { (void)map_name(m, "deep.leaf"); }), "no rename rule matches"));
    m.unmatched = kio::unmatched_entries::keep;
    CHECK(map_name(m, "other.thing") == "other.thing");
    m.unmatched = kio::unmatched_entries::skip;
    CHECK(map_name(m, "other.thing") == std::nullopt);
    // A replacement that uses more wildcards than the pattern captures is a programming error.
    kio::name_mapping bad{{{"a.*", "*/*"}}};
    CHECK_THROWS_AS(kio::check_mapping(bad), std::invalid_argument);
    parameter_store s;
    CHECK_THROWS_AS(s.load(fixture("params_numpy.npz"), bad), std::invalid_argument);
    // A long hostile name costs (pattern x name) steps, never a deep recursion.
    const std::string hostile = std::string(60000, 'a') + ".b";
    CHECK(map_name(m, hostile) == std::nullopt);
}

TEST_CASE("transforms: transpose then reshape, with errors naming the entry and the shapes") {
    const std::vector<std::size_t> s{2, 3, 4};
    CHECK(tensor_transform::transpose({2, 0, 1}).apply(s, "w") == std::vector<std::size_t>{4, 2, 3});
    CHECK(tensor_transform::reshape({1, -1, 2}).apply(s, "w") == std::vector<std::size_t>{1, 12, 2});
    CHECK(tensor_transform::transpose({1, 0, 2}).then_reshape({3, 8}).apply(s, "w") ==
          std::vector<std::size_t>{3, 8});
    CHECK(tensor_transform::reshape({}).apply(std::vector<std::size_t>{1}, "w").empty());  // to a 0-d array
    CHECK(contains(what_of([&] {
                       (void)tensor_transform::transpose({0, 1}).apply(s, "w");
                   }),
                   "w: transpose axes (0, 1) are not a permutation of the axes of shape (2, 3, 4)"));
    CHECK(contains(what_of([&] {
                       (void)tensor_transform::transpose({0, 0, 1}).apply(s, "w");
                   }),
                   "not a permutation"));
    CHECK(contains(what_of([&] {
                       (void)tensor_transform::reshape({5, -1}).apply(s, "w");
                   }),
                   "w: cannot reshape (2, 3, 4) (24 elements) to (5, -1)"));
    CHECK(contains(what_of([&] {
                       (void)tensor_transform::reshape({-1, -1}).apply(s, "w");
                   }),
                   "cannot reshape"));
    CHECK(contains(what_of([&] { (void)tensor_transform::reshape({7}).apply(s, "w"); }), "to (7,)"));
}

TEST_CASE("a mapped load renames, transposes and reshapes values exactly") {
    const auto exp = read_expected(fixture("params_numpy.txt"));
    kio::name_mapping m{{
        {"fc/affine/W", "dense/W", tensor_transform::transpose({1, 0})},
        {"bn/*", "norm/*", tensor_transform::reshape({-1})},
        {"conv1/conv/*", "c/*"},
        rename_rule::skip("fc/affine/b"),
    }};
    parameter_store s;
    auto& existing = s.get_or_create("dense/W", {5, 7}, initializer::constant(0.f), false);
    const float* buf = existing.data.data();
    s.load(fixture("params_numpy.npz"), m);
    CHECK(s.size() == 4);  // dense/W overwritten, norm/beta, c/W and c/b created, fc/affine/b skipped
    CHECK(existing.data.data() == buf);  // existing parameters are overwritten in place
    CHECK_FALSE(existing.need_grad);
    const auto& w = exp.at("fc/affine/W");  // (7, 5) in the file
    for (std::size_t i = 0; i < 7; ++i)
        for (std::size_t j = 0; j < 5; ++j) CHECK(double(existing.data(j, i)) == w.values[i * 5 + j]);
    CHECK(shape_of(s.at("norm/beta").data) == std::vector<std::size_t>{4});
    CHECK(double(s.at("norm/beta").data(3)) == exp.at("bn/beta").values[3]);
    CHECK(double(s.at("c/W").data(1, 2, 0, 1)) ==
          exp.at("conv1/conv/W").values[((1 * 3 + 2) * 3 + 0) * 3 + 1]);
    CHECK(s.contains("fc/affine/b") == false);
    CHECK(s.contains("c/b"));
}

TEST_CASE("mapped load errors name file, parameter and entry, and leave the store unchanged") {
    const std::string file = fixture("params_numpy.npz").string();
    parameter_store s;
    s.get_or_create("keep", {2}, initializer::constant(3.f));
    s.get_or_create("dense/W", {7, 5}, initializer::constant(1.f));  // the file's layout, not the mapped one
    const auto before = snapshot(s);
    kio::name_mapping m{{{"fc/affine/W", "dense/W", tensor_transform::transpose({1, 0})}},
                        kio::unmatched_entries::keep};

    std::string msg = what_of([&] { s.load(file, m); });
    CHECK(contains(msg, file + ": parameter 'dense/W' (from entry 'fc/affine/W'): shape mismatch: expected "
                               "(7, 5) (in the store), "
                               "found (5, 7) (in the file, (7, 5) before the transform)"));
    CHECK(snapshot(s) == before);

    kio::name_mapping twice{{{"conv1/conv/*", "same"}}, kio::unmatched_entries::skip};
    msg = what_of([&] { s.load(file, twice); });
    CHECK(contains(msg, "parameter 'same' (from entry 'conv1/conv/b'): entries 'conv1/conv/W' and "
                        "'conv1/conv/b' both map to this parameter"));
    CHECK(snapshot(s) == before);

    kio::name_mapping reshape{{{"bn/beta", "bn/beta", tensor_transform::reshape({3, -1})}},
                              kio::unmatched_entries::skip};
    msg = what_of([&] { s.load(file, reshape); });
    CHECK(contains(msg, "parameter 'bn/beta' (from entry 'bn/beta'): entry shape (1, 4, 1, 1): cannot "
                        "reshape (1, 4, 1, 1) (4 elements) to (3, -1)"));
    CHECK(snapshot(s) == before);

    kio::name_mapping none{{{"nothing.*", "x"}}};
    msg = what_of([&] { s.load(file, none); });
    CHECK(contains(msg, file + ": entry 'conv1/conv/W': no rename rule matches"));
    CHECK(snapshot(s) == before);

    kio::name_mapping rename_all;
    rename_all.rename = [](std::string_view n) -> std::optional<kio::mapped_entry> {
        if (n == "fc/affine/W") return kio::mapped_entry{"dense/W", tensor_transform::transpose({1, 0})};
        return std::nullopt;
    };
    msg = what_of([&] { s.load(file, rename_all, load_mode::strict); });
    CHECK(contains(msg, file + ": parameter 'dense/W' (from entry 'fc/affine/W'): shape mismatch"));
    parameter_store t;
    t.get_or_create("dense/W", {5, 7});
    t.get_or_create("missing", {1});
    msg = what_of([&] { t.load(file, rename_all, load_mode::strict); });
    CHECK(contains(
        msg,
        file +
            ": parameter 'missing': missing from the file (load_mode::strict; expected shape (1,), float32); "
            "no entry of the file maps to it"));
    t.erase("missing");
    t.load(file, rename_all, load_mode::strict);
    CHECK(t.size() == 1);
}

// ---- the torchvision ResNet-50 rule set ------------------------------------------------------------

namespace {

// torchvision name -> kata name, written out by hand (independently of the glob rules under test).
std::string kata_name_of(const std::string& tv) {
    std::vector<std::string> p;
    std::stringstream ss(tv);
    for (std::string c; std::getline(ss, c, '.');) p.push_back(c);
    const std::map<std::string, std::string> bn = {
        {"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "mean"}, {"running_var", "var"}};
    if (p[0] == "conv1") return "conv1/conv/W";
    if (p[0] == "bn1") return "conv1/bn/" + bn.at(p[1]);
    if (p[0] == "fc") return p[1] == "weight" ? "fc/affine/W" : "fc/affine/b";
    const std::string block = p[0] + "/" + p[1] + "/";
    if (p[2] == "downsample") return block + "downsample/" + (p[3] == "0" ? "conv/W" : "bn/" + bn.at(p[4]));
    if (p[2].starts_with("conv")) return block + p[2] + "/conv/W";
    return block + "conv" + p[2].substr(2) + "/bn/" + bn.at(p[3]);
}

}  // namespace

TEST_CASE(
    "torchvision ResNet-50 state dict (numpy.savez subset): every entry lands where it belongs, exactly") {
    const auto path = fixture("resnet50_torchvision_subset.npz");
    const auto bytes = read_bytes(path);
    const auto entries = kio::read_npz(bytes, path.string());
    for (bool cl : {false, true}) {
        CAPTURE(cl);
        parameter_store s;
        s.load(path, kata::models::resnet50_torchvision_mapping(cl));
        std::size_t mapped = 0;
        std::set<std::string> rules_seen;
        for (const auto& e : entries) {
            CAPTURE(e.name);
            if (e.name.ends_with("num_batches_tracked")) {
                CHECK(e.array.dtype == kio::npy_dtype::i8);  // dropped, never read as float
                continue;
            }
            ++mapped;
            const std::string name = kata_name_of(e.name);
            REQUIRE(s.contains(name));
            const xt::xarray<float>& got = s.at(name).data;
            const xt::xarray<float> src = kio::to_xarray<float>(e.array, e.name);
            const auto& sh = e.array.shape;
            if (sh.size() == 1 && !e.name.starts_with("fc")) {  // batch-norm vector (C,)
                rules_seen.insert("bn");
                CHECK(shape_of(got) == (cl ? std::vector<std::size_t>{1, 1, 1, sh[0]}
                                           : std::vector<std::size_t>{1, sh[0], 1, 1}));
                CHECK(std::equal(got.begin(), got.end(), src.begin(), src.end()));
            } else if (e.name == "fc.weight") {  // (out, in) -> (in, out)
                rules_seen.insert("fc.weight");
                REQUIRE(shape_of(got) == std::vector<std::size_t>{sh[1], sh[0]});
                bool same = true;
                for (std::size_t o = 0; o < sh[0]; ++o)
                    for (std::size_t i = 0; i < sh[1]; ++i) same = same && got(i, o) == src(o, i);
                CHECK(same);
            } else if (sh.size() == 4) {  // convolution (out, in, kh, kw); channel-last (out, kh, kw, in)
                rules_seen.insert(e.name.find("downsample") != std::string::npos ? "downsample conv"
                                                                                 : "conv");
                if (!cl) {
                    CHECK(got == src);
                } else {
                    REQUIRE(shape_of(got) == std::vector<std::size_t>{sh[0], sh[2], sh[3], sh[1]});
                    bool same = true;
                    for (std::size_t o = 0; o < sh[0]; ++o)
                        for (std::size_t i = 0; i < sh[1]; ++i)
                            for (std::size_t y = 0; y < sh[2]; ++y)
                                for (std::size_t x = 0; x < sh[3]; ++x)
                                    same = same && got(o, y, x, i) == src(o, i, y, x);
                    CHECK(same);
                }
            } else {
                rules_seen.insert("fc.bias");
                CHECK(got == src);
            }
        }
        CHECK(s.size() == mapped);  // nothing else was created
        CHECK(rules_seen == std::set<std::string>{"bn", "conv", "downsample conv", "fc.bias", "fc.weight"});
    }
}

namespace {

struct key_line {
    std::string name, dtype;
    std::vector<std::size_t> shape;
};

std::vector<key_line> torchvision_keys() {
    std::ifstream in(fixture("resnet50_torchvision_keys.txt"));
    REQUIRE(in);
    std::vector<key_line> out;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        key_line k;
        std::string dims;
        std::getline(ls, k.name, '\t');
        std::getline(ls, k.dtype, '\t');
        std::getline(ls, dims);
        std::istringstream ds(dims);
        std::size_t nd = 0, d = 0;
        ds >> nd;
        while (nd-- && ds >> d) k.shape.push_back(d);
        out.push_back(std::move(k));
    }
    return out;
}

template <class Net>
std::map<std::string, std::vector<std::size_t>> graph_parameters() {
    std::map<std::string, std::vector<std::size_t>> out;
    constexpr const auto& g = Net::graph;
    for (std::size_t i = 0; i < g.size(); ++i)
        if (g.nodes[i].op == kata::op_kind::parameter)
            out.emplace(std::string(g.nodes[i].name.view()), kata::to_vector(g.nodes[i].shape));
    return out;
}

template <class Net>
void check_covers(bool cl) {
    const auto keys = torchvision_keys();
    REQUIRE(keys.size() == 320);  // torchvision 0.14 resnet50: 161 weights/biases, 53 x 3 BN buffers
    const auto m = kata::models::resnet50_torchvision_mapping(cl);
    std::map<std::string, std::vector<std::size_t>> mapped;
    std::size_t dropped = 0;
    for (const auto& k : keys) {
        CAPTURE(k.name);
        const auto r = kio::apply_mapping(m, k.name, "keys");
        if (!r) {
            CHECK(k.name.ends_with(".num_batches_tracked"));
            ++dropped;
            continue;
        }
        CHECK(k.dtype == "<f4");
        CHECK(r->name == kata_name_of(k.name));
        CHECK(mapped.emplace(r->name, r->transform.apply(k.shape, k.name)).second);
    }
    CHECK(dropped == 53);
    CHECK(mapped == graph_parameters<Net>());  // same names, same shapes, nothing left over
}

}  // namespace

TEST_CASE(
    "the torchvision rule set maps all 320 resnet50 state-dict entries onto kata's ResNet-50 parameters") {
    check_covers<kata::network<kata::models::resnet50_net<1>>>(false);
    check_covers<kata::network<kata::models::resnet50_net<1, true>>>(true);
}
