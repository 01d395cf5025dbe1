// Helpers shared by the SimpleGraph tests: a parser for the DOT text kata::SimpleGraph writes, counts
// expected from a graph computed independently of the viewer, files and environment variables.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

namespace viewer_test {

using namespace kata;
namespace fs = std::filesystem;

// ---- a small parser for the DOT text SimpleGraph writes ------------------------------------------------

struct dot_graph {
    std::map<std::string, std::map<std::string, std::string>> nodes;  // id -> attributes (unescaped)
    std::vector<std::pair<std::string, std::string>> edges;
    std::vector<std::string> node_order;  // ids in statement order
    int duplicate_node_statements = 0;
    bool header_ok = false;
};

// Reads a DOT double-quoted string at s[i] (s[i] == '"'); returns the unescaped text, advances i.
inline std::string read_quoted(const std::string& s, std::size_t& i) {
    REQUIRE(s[i] == '"');
    std::string r;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            ++i;
            r.push_back(s[i] == 'n' ? '\n' : s[i]);
        } else {
            r.push_back(s[i]);
        }
    }
    REQUIRE(i < s.size());
    ++i;  // closing quote
    return r;
}

inline std::string read_value(const std::string& s, std::size_t& i) {
    if (s[i] == '"') return read_quoted(s, i);
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != ']') ++j;
    std::string r = s.substr(i, j - i);
    i = j;
    return r;
}

inline dot_graph parse_dot(const std::string& text) {
    dot_graph d;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    std::string second;
    std::getline(in, second);
    d.header_ok = line == "digraph {" && second == "\tnode [style=filled]";
    bool closed = false;
    while (std::getline(in, line)) {
        if (line == "}") {
            closed = true;
            continue;
        }
        REQUIRE(!closed);
        REQUIRE(line.size() > 1);
        REQUIRE(line[0] == '\t');
        std::size_t i = 1;
        std::string id = read_quoted(line, i);
        if (line.compare(i, 4, " -> ") == 0) {
            i += 4;
            std::string head = read_quoted(line, i);
            CHECK(i == line.size());
            d.edges.push_back({id, head});
            continue;
        }
        REQUIRE(line.compare(i, 2, " [") == 0);
        i += 2;
        std::map<std::string, std::string> attrs;
        while (i < line.size() && line[i] != ']') {
            if (line[i] == ' ') {
                ++i;
                continue;
            }
            auto eq = line.find('=', i);
            REQUIRE(eq != std::string::npos);
            std::string key = line.substr(i, eq - i);
            i = eq + 1;
            attrs[key] = read_value(line, i);
        }
        CHECK(i + 1 == line.size());
        if (d.nodes.count(id)) ++d.duplicate_node_statements;
        d.nodes[id] = attrs;
        d.node_order.push_back(id);
    }
    CHECK(closed);
    return d;
}

// Expected counts computed from the graph itself (not from the viewer's code path).
struct expected_counts {
    int functions = 0, variables = 0, edges = 0, parameters = 0;
    std::map<std::string, int> per_type;
};

template <std::size_t N, std::size_t E, std::size_t O>
expected_counts expected(const graph<N, E, O>& g) {
    expected_counts c;
    std::set<int> vars;
    for (std::size_t i = 0; i < N; ++i) {
        if (!is_function(g.nodes[i].op) || !g.reachable(int(i))) continue;
        ++c.functions;
        ++c.per_type[std::string(type_name(g.nodes[i].op))];
        vars.insert(int(i));
        c.edges += g.nodes[i].num_inputs + 1;
        for (int k = 0; k < g.nodes[i].num_inputs; ++k) vars.insert(g.input_of(int(i), k));
    }
    for (auto o : g.outputs) vars.insert(o);
    c.variables = int(vars.size());
    for (int v : vars) c.parameters += g.nodes[std::size_t(v)].op == op_kind::parameter;
    return c;
}

// Function ids are "<TypeName>-<k>"; variable ids "<node index>-<0|1>".
inline bool is_function_id(const std::string& id) { return !id.empty() && !(id[0] >= '0' && id[0] <= '9'); }

// Structural checks shared by every graph: counts, ids, edges between declared nodes, bipartite.
template <std::size_t N, std::size_t E, std::size_t O>
dot_graph check_structure(const graph<N, E, O>& g, const SimpleGraph& viewer = SimpleGraph()) {
    const std::string text = viewer.create_graphviz_digraph(g);
    dot_graph d = parse_dot(text);
    const expected_counts c = expected(g);
    CHECK(d.header_ok);
    CHECK(d.duplicate_node_statements == 0);
    int nf = 0, nv = 0;
    std::map<std::string, int> per_type;
    for (const auto& [id, attrs] : d.nodes) {
        if (is_function_id(id)) {
            ++nf;
            auto dash = id.rfind('-');
            REQUIRE(dash != std::string::npos);
            ++per_type[id.substr(0, dash)];
        } else {
            ++nv;
        }
    }
    CHECK(nf == c.functions);
    CHECK(nv == c.variables);
    CHECK(int(d.edges.size()) == c.edges);
    CHECK(per_type == c.per_type);
    for (const auto& [t, h] : d.edges) {
        CHECK(d.nodes.count(t) == 1);
        CHECK(d.nodes.count(h) == 1);
        CHECK(is_function_id(t) != is_function_id(h));  // variable -> function or function -> variable
    }
    // Indexed ids count from 1 per type without gaps.
    for (const auto& [t, n] : c.per_type)
        for (int k = 1; k <= n; ++k) CHECK(d.nodes.count(t + "-" + std::to_string(k)) == 1);
    // Every function has exactly one outgoing edge (kata functions have one output).
    std::map<std::string, int> out_degree;
    for (const auto& [t, h] : d.edges) out_degree[t] += is_function_id(t);
    for (const auto& [id, attrs] : d.nodes)
        if (is_function_id(id)) CHECK(out_degree[id] == 1);
    return d;
}

inline std::vector<std::string> labels_with_fill(const dot_graph& d, const std::string& fill) {
    std::vector<std::string> r;
    for (const auto& [id, a] : d.nodes)
        if (!is_function_id(id) && a.at("fillcolor") == fill) r.push_back(a.at("label"));
    return r;
}

// The id of the (unique) variable node labelled `label`.
inline std::string var_with_label(const dot_graph& d, const std::string& label) {
    std::string found;
    int n = 0;
    for (const auto& [id, a] : d.nodes)
        if (!is_function_id(id) && a.at("label") == label) {
            found = id;
            ++n;
        }
    CHECK(n == 1);
    return found;
}

inline std::vector<std::string> heads_of(const dot_graph& d, const std::string& tail) {
    std::vector<std::string> r;
    for (const auto& [t, h] : d.edges)
        if (t == tail) r.push_back(h);
    return r;
}

inline std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

inline fs::path fresh_dir(const std::string& tag) {
    auto d = fs::temp_directory_path() / ("kata_viewer_test_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

inline bool have_dot() { return kata::detail::find_executable("dot").has_value(); }

// Sets an environment variable for the lifetime of the object, restoring it afterwards.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~scoped_env() {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};

}  // namespace viewer_test
