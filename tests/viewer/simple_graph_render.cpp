// kata::SimpleGraph rendering: failures (missing dot, failing or killed dot, unwritable paths), the
// atomicity of the written files, PDF output and starting a viewer.
//
// Most cases run without GraphViz: a fake `dot` (a /bin/sh script using only shell builtins) is put
// alone on PATH, so the failure paths are exercised on every machine. The PDF case needs the real dot.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

#include "dot_test_util.hpp"

using namespace kata;
using namespace viewer_test;
namespace fs = std::filesystem;

namespace {

constexpr var small_net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    return F::relu(PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "c1"}));
}
using Small = network<small_net>;

// A directory of fake programs that becomes the whole PATH while the object lives (after activate()).
class fake_bin {
public:
    explicit fake_bin(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }
    void add(const std::string& name, const std::string& script, bool executable = true) {
        { std::ofstream(dir_ / name) << script; }
        using fs::perms;
        fs::permissions(dir_ / name, executable ? perms::owner_all | perms::group_read | perms::others_read
                                                : perms::owner_read | perms::owner_write);
    }
    void activate() { path_.emplace("PATH", dir_.c_str()); }
    const fs::path& dir() const { return dir_; }

private:
    fs::path dir_;
    std::optional<scoped_env> path_;
};

// Parses dot's command line (-T<fmt> -o <out> <source>) into $fmt, $out and $src.
constexpr const char* parse_args = "#!/bin/sh\n"
                                   "fmt=; out=; src=\n"
                                   "while [ $# -gt 0 ]; do\n"
                                   "  case \"$1\" in\n"
                                   "    -T*) fmt=\"$1\" ;;\n"
                                   "    -o) shift; out=\"$1\" ;;\n"
                                   "    *) src=\"$1\" ;;\n"
                                   "  esac\n"
                                   "  shift\n"
                                   "done\n";

// Writes part of a picture to the -o file, complains and fails, as dot does on a syntax error.
const std::string failing_dot = std::string(parse_args) + "printf 'partial picture' > \"$out\"\n"
                                                          "echo 'fake dot: syntax error in line 1' >&2\n"
                                                          "exit 3\n";

// Writes the arguments it got and the DOT source to the -o file.
const std::string echo_dot =
    std::string(parse_args) +
    "{ printf '%s\\n%s\\n' \"$fmt\" \"$out\"; while IFS= read -r l; do printf '%s\\n' "
    "\"$l\"; done < \"$src\"; } > \"$out\"\n";

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> r;
    for (const auto& e : fs::directory_iterator(dir)) r.insert(e.path().filename().string());
    return r;
}

std::string what_of(auto&& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("expected a std::runtime_error");
    return {};
}

}  // namespace

TEST_CASE("SimpleGraph render: a failing dot keeps the existing picture and leaves no temporary files") {
    auto dir = fresh_dir("render_fail");
    auto out_dir = dir / "out";
    fs::create_directories(out_dir);
    { std::ofstream(out_dir / "g.png") << "old picture"; }
    fake_bin bin(dir / "bin");
    bin.add("dot", failing_dot);
    bin.activate();
    for (bool cleanup : {false, true}) {
        CAPTURE(cleanup);
        const std::string what =
            what_of([&] { SimpleGraph().save(Small::graph, out_dir / "g", "", cleanup); });
        CHECK(what.find("exit status 3") != std::string::npos);
        CHECK(what.find("fake dot: syntax error in line 1") != std::string::npos);  // dot's diagnostics
        CHECK(what.find((out_dir / "g.png").string()) != std::string::npos);
        // The old picture is untouched; the partial output and dot's stderr file are gone. The DOT source
        // stays (also with cleanup, which only applies after a successful render) for inspection.
        CHECK(read_file(out_dir / "g.png") == "old picture");
        CHECK(names_in(out_dir) == std::set<std::string>{"g", "g.png"});
        CHECK(read_file(out_dir / "g") == SimpleGraph().create_graphviz_digraph(Small::graph));
    }
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: a dot killed by a signal is reported and leaves no file") {
    auto dir = fresh_dir("render_killed");
    fake_bin bin(dir / "bin");
    bin.add("dot", std::string(parse_args) + "printf 'partial' > \"$out\"\nkill -9 $$\n");
    bin.activate();
    const std::string what = what_of([&] { SimpleGraph("svg").save(Small::graph, dir / "g"); });
    CHECK(what.find("could not run or was killed") != std::string::npos);
    CHECK(names_in(dir) == std::set<std::string>{"bin", "g"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: dot gets -T<format>, a temporary -o sibling and the DOT source") {
    auto dir = fresh_dir("render_args");
    fake_bin bin(dir / "bin");
    bin.add("dot", echo_dot);
    bin.activate();
    const SimpleGraph viewer("svg", true);
    for (const char* fmt : {"pdf", "png", ""}) {
        CAPTURE(fmt);
        const std::string ext = *fmt ? fmt : "svg";
        const auto out = viewer.save(Small::graph, dir / "g", fmt);
        CHECK(out == dir / ("g." + ext));
        const std::string got = read_file(out);
        const auto nl1 = got.find('\n'), nl2 = got.find('\n', nl1 + 1);
        REQUIRE(nl2 != std::string::npos);
        CHECK(got.substr(0, nl1) == "-T" + ext);
        // dot wrote a temporary sibling, renamed over the output afterwards.
        const fs::path written = got.substr(nl1 + 1, nl2 - nl1 - 1);
        CHECK(written.parent_path() == dir);
        CHECK(written.filename().string().rfind("g." + ext + ".tmp-", 0) == 0);
        CHECK(got.substr(nl2 + 1) == viewer.create_graphviz_digraph(Small::graph));
    }
    // The DOT source is kept without cleanup; nothing else is left.
    CHECK(names_in(dir) == std::set<std::string>{"bin", "g", "g.pdf", "g.png", "g.svg"});
    viewer.save(Small::graph, dir / "g", "pdf", true);
    CHECK(names_in(dir) == std::set<std::string>{"bin", "g.pdf", "g.png", "g.svg"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: an unwritable path throws naming it (no GraphViz needed)") {
    auto dir = fresh_dir("unwritable");
    fake_bin bin(dir / "bin");
    bin.add("dot", echo_dot);
    bin.activate();
    // The DOT source cannot be written: a path below a regular file cannot be created, even by root.
    { std::ofstream(dir / "afile") << "x"; }
    const fs::path bad = dir / "afile" / "graph";
    std::string what = what_of([&] { SimpleGraph().save(Small::graph, bad); });
    CHECK(what.find("cannot write '" + bad.string() + "'") != std::string::npos);
    // The picture cannot replace its path (a directory is there): named too, and no temporary file left.
    fs::create_directories(dir / "d.png");
    what = what_of([&] { SimpleGraph().save(Small::graph, dir / "d"); });
    CHECK(what.find("cannot write '" + (dir / "d.png").string() + "'") != std::string::npos);
    CHECK(fs::is_directory(dir / "d.png"));
    CHECK(fs::is_empty(dir / "d.png"));
    CHECK(names_in(dir) == std::set<std::string>{"afile", "bin", "d", "d.png"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: a missing dot throws a clear error before writing anything") {
    auto dir = fresh_dir("nodot");
    fake_bin bin(dir / "bin");
    bin.add("dot", echo_dot, /*executable=*/false);  // not executable: not taken for dot
    bin.activate();
    CHECK(!SimpleGraph::dot_available());
    for (int k = 0; k < 2; ++k) {
        const std::string what = what_of([&] {
            if (k == 0)
                SimpleGraph().save(Small::graph, dir / "g");
            else
                SimpleGraph().view(Small::graph, dir / "v");
        });
        CHECK(what.find("'dot'") != std::string::npos);
        CHECK(what.find("not found on PATH") != std::string::npos);
        CHECK(what.find("install graphviz") != std::string::npos);
    }
    CHECK(names_in(dir) == std::set<std::string>{"bin"});
    // create_graphviz_digraph does not need dot.
    CHECK(!SimpleGraph().create_graphviz_digraph(Small::graph).empty());
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: malformed formats and an empty path are rejected before running dot") {
    auto dir = fresh_dir("badfmt");
    fake_bin bin(dir / "bin");
    bin.add("dot", failing_dot);
    bin.activate();
    CHECK_THROWS_AS(SimpleGraph("png; rm -rf /").save(Small::graph, dir / "g"), std::invalid_argument);
    CHECK_THROWS_AS(SimpleGraph("").save(Small::graph, dir / "g"), std::invalid_argument);
    CHECK_THROWS_AS(SimpleGraph().save(Small::graph, dir / "g", "-Tpng"), std::invalid_argument);
    CHECK_THROWS_AS(SimpleGraph().save(Small::graph, ""), std::invalid_argument);
    CHECK(names_in(dir) == std::set<std::string>{"bin"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: an unknown format is reported with dot's diagnostics (real dot)") {
    if (!have_dot()) {
        MESSAGE("GraphViz's dot is not installed: not checked");
        return;
    }
    auto dir = fresh_dir("unknownfmt");
    const std::string what = what_of([&] { SimpleGraph("nosuchformat").save(Small::graph, dir / "g"); });
    CHECK(what.find("nosuchformat") != std::string::npos);
    CHECK(names_in(dir) == std::set<std::string>{"g"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: PDF with the real dot") {
    if (!have_dot()) {
        MESSAGE("GraphViz's dot is not installed: PDF rendering not checked");
        return;
    }
    auto dir = fresh_dir("pdf");
    auto pdf = SimpleGraph().save(Small::graph, dir / "g", "pdf");
    CHECK(pdf == dir / "g.pdf");
    std::string bytes = read_file(pdf);
    REQUIRE(bytes.size() > 100);
    CHECK(bytes.substr(0, 5) == "%PDF-");
    CHECK(bytes.find("%%EOF") != std::string::npos);
    // The viewer's own format, verbose, with cleanup.
    pdf = SimpleGraph("pdf", true).save(Small::graph, dir / "v", "", true);
    CHECK(read_file(pdf).substr(0, 5) == "%PDF-");
    CHECK(names_in(dir) == std::set<std::string>{"g", "g.pdf", "v.pdf"});
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: spawn_detached reports programs that cannot be started") {
    auto dir = fresh_dir("spawn");
    fake_bin bin(dir / "bin");
    bin.add("marker", "#!/bin/sh\nprintf 'started %s' \"$1\" > \"$1\"\n");
    bin.add("broken", "#!/nonexistent/interpreter\n");  // exec fails: ENOENT for the interpreter
    bin.add("plain", "#!/bin/sh\n", /*executable=*/false);
    using kata::detail::spawn_detached;
    CHECK(!spawn_detached((dir / "nonexistent").string(), "x"));
    CHECK(!spawn_detached((bin.dir() / "broken").string(), "x"));
    CHECK(!spawn_detached((bin.dir() / "plain").string(), "x"));
    // A program that starts runs detached with the file as its argument.
    const fs::path marker = dir / "m.txt";
    CHECK(spawn_detached((bin.dir() / "marker").string(), marker.string()));
    for (int i = 0; i < 500 && read_file(marker).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(read_file(marker) == "started " + marker.string());
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph render: view with a display but a viewer that cannot start does not fail") {
    auto dir = fresh_dir("view_broken");
    fake_bin bin(dir / "bin");
    bin.add("dot", echo_dot);
    bin.add("xdg-open", "#!/nonexistent/interpreter\n");
    bin.add("open", "#!/nonexistent/interpreter\n");
    bin.activate();
    scoped_env display("DISPLAY", ":99");
    const auto out = SimpleGraph("svg").view(Small::graph, dir / "v");
    CHECK(out == dir / "v.svg");
    CHECK(fs::exists(out));
    CHECK(!fs::exists(dir / "v"));  // cleanup defaults to true for view
    fs::remove_all(dir);
}
