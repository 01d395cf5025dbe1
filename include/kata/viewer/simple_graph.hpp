// kata/viewer/simple_graph.hpp
//
// kata::SimpleGraph: nnabla's experimental SimpleGraph viewer (nnabla.experimental.viewers) for kata's
// compile-time graphs. It writes GraphViz DOT text and renders it with GraphViz's `dot` executable.
//
//     kata::SimpleGraph viewer;                          // format "png", not verbose
//     std::string dot = viewer.create_graphviz_digraph(Net::graph);   // or <Net>()
//     viewer.save(Net::graph, "net");                    // writes "net" (DOT) and "net.png"
//     kata::SimpleGraph("svg", true).save(Net::graph, "net_verbose");  // "net_verbose.svg"
//     viewer.save(Net::graph, "net", "pdf", true);       // "net.pdf", DOT source removed
//     viewer.view(Net::graph);                           // renders to a temp file, opens it if it can
//
// save(graph, path, format = viewer's, cleanup = false); view(graph, path = temp, cleanup = true,
// format = viewer's) (upstream's order for view; upstream's save has cleanup before format).
//
// Any graph value works (`kata::graph<N, E, O>`): a network's graph, the result of any converter
// pipeline, graphs with shared inputs and with several outputs.
//
// What is drawn (docs/nnabla-semantics.md §5, upstream viewers.py):
//   * `node [style=filled]` for the whole graph;
//   * one node per function, id "<TypeName>-<k>" (k counts per type from 1 in nnabla's visit order),
//     label = type name + "\n" + scope when the function has parameter inputs (scope = character-wise
//     common prefix of dirname(first parameter key) and the other keys), else the type name, or, in
//     verbose mode, type name + "\n(" + JSON(args) + ")" (args from the op's descriptor, named and
//     ordered as nnabla's functions.yaml, incl. the `inplace` flags with F.*'s defaults: ReLU
//     {"inplace": false}, LeakyReLU {"alpha": 0.1, "inplace": false}, Add2/Sub2/Mul2/Div2 {"inplace": false},
//     AddScalar/MulScalar {"val": .., "inplace": false}, Reshape {"shape": .., "inplace": true},
//     Sink {"one_input_grad": true}, Sigmoid {}); shape square (box when verbose);
//     colour from the type name (Conv blue, Affine red, Norm orange, ReLU green, Pool lightblue2,
//     Add/Sub/Mul/Div purple, else gray; case-sensitive, first match wins, so Deconvolution and
//     Unpooling are gray); fontcolor white;
//   * one node per variable (leaves: inputs and parameters; one per function output, however many
//     consumers it has), id "<node index>-0" for leaves and "<node index>-1" for function outputs
//     (upstream: "<hash>-<production count>"); label = the parameter key minus the function's scope
//     ("W", "b"), the input name, or "h"; verbose adds "\n((<shape tuple>, need_grad=<True|False>))"
//     (never for parameters); shape circle (GraphViz default, shape="", when verbose); fill pink for
//     parameters, else vname_color_map[variable name], else lightgray; border black when the variable
//     needs a gradient, else the fill colour. Inputs do not need gradients; parameters as created
//     (fix_parameters / BN mean and var: no); a function output needs one when any input does.
//   * edges input variable -> function and function -> output variable, in visit order (a function
//     reading the same variable twice has two edges, as upstream).
//
// Deviations from upstream (all deliberate):
//   * fname_color_map is looked up by the function's TYPE NAME ("Convolution"), as nnabla's
//     documentation says. Upstream looks it up by the indexed id ("Convolution-1"), so type-name keys
//     never match and every function becomes lightgray. A type missing from the map keeps its default
//     colour (upstream: lightgray whenever a map is given).
//   * Each node statement is written once (upstream re-emits a variable's node statement at every use;
//     GraphViz merges them, so the picture is the same).
//   * A function whose parameters have an empty common scope (parameters created at the root) is
//     labelled like a function without parameters (upstream: type name + "\n" + ""), and its
//     parameters show their full keys (upstream strips one character: "W" becomes "").
//   * A graph output that is a leaf (a network returning its input) is drawn as a lone variable node
//     (upstream's visit draws nothing for it).
//   * Parameters are the graph's parameter nodes (kata has no global registry; upstream's `params=`
//     argument is not needed).
//   * save()/view() call `dot` directly (no Python graphviz package); a missing `dot` raises
//     std::runtime_error instead of ImportError. view() opens the picture with xdg-open (open on
//     macOS) only when a display is available; otherwise (headless CI) it just reports on std::clog
//     where the rendered file is and returns its path, without failing.
//   * save() takes (path, format, cleanup), upstream's save (fpath, cleanup, format); view() keeps
//     upstream's order. A graph built with `F.relu(x, inplace=True)` upstream shows "inplace": true;
//     kata has no in-place flag, so the labels always show F.*'s defaults (Reshape: true, else false).
//
// POSIX only (posix_spawn/fork); kata targets Linux.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../core/graph.hpp"
#include "../ops/descriptors.hpp"

extern char** environ;

namespace kata {

namespace detail {

// ---- text helpers -----------------------------------------------------------------------------------

// A DOT double-quoted string: backslash and quote escaped, newlines written as "\n" (GraphViz's
// centred line break), carriage returns dropped.
inline std::string dot_quote(std::string_view s) {
    std::string r;
    r.reserve(s.size() + 2);
    r.push_back('"');
    for (char c : s) {
        switch (c) {
        case '"': r += "\\\""; break;
        case '\\': r += "\\\\"; break;
        case '\n': r += "\\n"; break;
        case '\r': break;
        default: r.push_back(c);
        }
    }
    r.push_back('"');
    return r;
}

// A JSON string literal (Python's json.dumps with ensure_ascii for control characters).
inline std::string json_quote(std::string_view s) {
    std::string r = "\"";
    for (char c : s) {
        switch (c) {
        case '"': r += "\\\""; break;
        case '\\': r += "\\\\"; break;
        case '\n': r += "\\n"; break;
        case '\t': r += "\\t"; break;
        case '\r': r += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
                r += buf;
            } else {
                r.push_back(c);
            }
        }
    }
    return r + "\"";
}

// Python's repr(float) (what json.dumps writes): shortest round-trip digits, fixed notation for
// 1e-4 <= |v| < 1e16 with at least one decimal ("1.0"), scientific otherwise ("1e-05").
inline std::string py_float(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    char buf[64];
    const double a = std::fabs(v);
    const bool fixed = a == 0.0 || (a >= 1e-4 && a < 1e16);
    auto res = std::to_chars(buf, buf + sizeof buf, v,
                             fixed ? std::chars_format::fixed : std::chars_format::scientific);
    std::string s(buf, res.ptr);
    if (fixed && s.find('.') == std::string::npos) s += ".0";
    return s;
}

inline std::string py_bool(bool b) { return b ? "True" : "False"; }

// Python's tuple repr of a shape: "(1, 3, 32, 32)", "(10,)", "()".
inline std::string py_shape(const shape_t& s) {
    std::string r = "(";
    for (int i = 0; i < s.rank; ++i) {
        if (i) r += ", ";
        r += std::to_string(s.dims[i]);
    }
    if (s.rank == 1) r += ",";
    return r + ")";
}

// A JSON object built in insertion order with Python's default separators (", " and ": ").
class json_object {
public:
    json_object& raw(std::string_view key, const std::string& value) {
        if (!body_.empty()) body_ += ", ";
        body_ += json_quote(key);
        body_ += ": ";
        body_ += value;
        return *this;
    }
    json_object& integer(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
    json_object& boolean(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
    json_object& real(std::string_view key, double v) { return raw(key, py_float(v)); }
    json_object& string(std::string_view key, std::string_view v) { return raw(key, json_quote(v)); }
    template <class T>
    json_object& list(std::string_view key, const T* v, int n) {
        std::string s = "[";
        for (int i = 0; i < n; ++i) {
            if (i) s += ", ";
            s += std::to_string(v[i]);
        }
        return raw(key, s + "]");
    }
    std::string str() const { return "{" + body_ + "}"; }

private:
    std::string body_;
};

// The meaningful arguments of a function node, named and ordered as nnabla's `Function.info.args`:
// its descriptor's argument list (kata/ops/descriptors.hpp) as Python's json.dumps writes it.
inline std::string args_json(const node& n) {
    json_object j;
    for (const named_arg& a : descriptor_of(n.op).args(n.attr)) {
        const arg_value& v = a.value;
        switch (v.type) {
        case arg_type::integer: j.integer(a.name, v.i); break;
        case arg_type::real: j.real(a.name, v.r); break;
        case arg_type::boolean: j.boolean(a.name, v.i != 0); break;
        case arg_type::string: j.string(a.name, v.s); break;
        case arg_type::list: j.list(a.name, v.list, v.n); break;
        }
    }
    return j.str();
}

// Python's os.path.dirname for '/'-separated keys.
inline std::string_view dirname(std::string_view p) {
    auto pos = p.rfind('/');
    if (pos == std::string_view::npos) return {};
    std::string_view head = p.substr(0, pos + 1);
    if (head.find_first_not_of('/') == std::string_view::npos) return head;  // all slashes
    while (!head.empty() && head.back() == '/') head.remove_suffix(1);
    return head;
}

// Python's os.path.commonprefix (character-wise).
inline std::string_view common_prefix(const std::vector<std::string_view>& v) {
    if (v.empty()) return {};
    std::string_view p = v[0];
    for (std::size_t i = 1; i < v.size(); ++i) {
        std::size_t k = 0;
        while (k < p.size() && k < v[i].size() && p[k] == v[i][k]) ++k;
        p = p.substr(0, k);
    }
    return p;
}

// Upstream's default colour rules, on the type name (equivalent to upstream's test on the indexed
// id, which only appends "-<k>").
inline std::string default_function_color(std::string_view t) {
    auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
    if (has("Conv")) return "blue";
    if (has("Affine")) return "red";
    if (has("Norm")) return "orange";
    if (has("ReLU")) return "green";
    if (has("Pool")) return "lightblue2";
    if (has("Add") || has("Sub") || has("Mul") || has("Div")) return "purple";
    return "gray";
}

// ---- files and processes ------------------------------------------------------------------------------

inline std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

inline std::filesystem::path unique_sibling(const std::filesystem::path& p, std::string_view tag) {
    static std::atomic<unsigned> counter{0};
    std::string s = p.string();
    s += ".";
    s += tag;
    s += "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    return s;
}

// Writes `text` to `path` atomically: a sibling temporary file, flushed and renamed over `path`.
inline void write_atomic(const std::filesystem::path& path, std::string_view text) {
    const auto tmp = unique_sibling(path, "tmp");
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        const int e = errno;
        throw std::runtime_error("kata::SimpleGraph: cannot write '" + path.string() + "': " + errno_text(e));
    }
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    const int e = errno;
    if (std::fclose(f) != 0 || !ok) {
        std::remove(tmp.c_str());
        throw std::runtime_error("kata::SimpleGraph: cannot write '" + path.string() + "': " + errno_text(e));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e2 = errno;
        std::remove(tmp.c_str());
        throw std::runtime_error("kata::SimpleGraph: cannot write '" + path.string() +
                                 "': " + errno_text(e2));
    }
}

// Looks `name` up on PATH like execvp does (PATH unset: /bin:/usr/bin; empty entries: the current
// directory). Returns the executable's path, or nothing.
inline std::optional<std::string> find_executable(std::string_view name) {
    const char* env = std::getenv("PATH");
    std::string_view path = env ? std::string_view(env) : std::string_view("/bin:/usr/bin");
    for (;;) {
        auto colon = path.find(':');
        std::string_view dir = path.substr(0, colon);
        std::string cand = dir.empty() ? std::string(".") : std::string(dir);
        cand += "/";
        cand += name;
        struct stat st {};
        if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0)
            return cand;
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

// A path that cannot be mistaken for an option by the program it is passed to.
inline std::string as_argument(const std::filesystem::path& p) {
    std::string s = p.string();
    if (!s.empty() && s[0] == '-') s = "./" + s;
    return s;
}

// Runs `exe args...` (no shell), stdin from /dev/null, stderr to `stderr_path`. Returns the exit
// status, or -1 when the program was killed or could not be started.
inline int run_process(const std::string& exe, const std::vector<std::string>& args,
                       const std::filesystem::path& stderr_path) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    const std::string err = stderr_path.string();
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string read_text(const std::filesystem::path& p, std::size_t max = 4000) {
    std::string r;
    if (std::FILE* f = std::fopen(p.c_str(), "rb")) {
        char buf[1024];
        std::size_t n;
        while (r.size() < max && (n = std::fread(buf, 1, sizeof buf, f)) > 0) r.append(buf, n);
        std::fclose(f);
    }
    if (r.size() > max) r.resize(max);
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.pop_back();
    return r;
}

// Starts `exe file` detached (double fork, so no zombie and no waiting for the viewer to close).
// Returns false when it could not be started: fork failed, or exec failed (reported by the grandchild
// through a close-on-exec pipe: a successful exec closes it unread, a failed one writes errno first).
inline bool spawn_detached(const std::string& exe, const std::string& file) {
    std::vector<char*> argv{const_cast<char*>(exe.c_str()), const_cast<char*>(file.c_str()), nullptr};
    int fds[2];
    if (::pipe(fds) != 0) return false;
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);  // pipe + fcntl rather than Linux's pipe2: macOS too
    const pid_t child = ::fork();
    if (child < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    if (child == 0) {
        ::close(fds[0]);
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            const int devnull = ::open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                ::dup2(devnull, 0);
                ::dup2(devnull, 1);
                ::dup2(devnull, 2);
            }
            ::execv(exe.c_str(), argv.data());
            const int e = errno;
            [[maybe_unused]] auto n = ::write(fds[1], &e, sizeof e);
            ::_exit(127);
        }
        ::_exit(grandchild < 0 ? 1 : 0);
    }
    ::close(fds[1]);
    int status = 0;
    bool ok = true;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            ok = false;
            break;
        }
    }
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    // The grandchild holds the write end until its exec; read() returns 0 once it succeeded (or the
    // grandchild was never created: the child closed its copy by exiting).
    int exec_errno = 0;
    ssize_t n;
    while ((n = ::read(fds[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    ::close(fds[0]);
    return ok && n == 0;
}

}  // namespace detail

// nnabla.experimental.viewers.SimpleGraph for kata graphs (see the top of this file).
class SimpleGraph {
public:
    // Maps a function type name ("Convolution") or a variable name ("x") to a GraphViz colour.
    using color_map = std::map<std::string, std::string, std::less<>>;

    explicit SimpleGraph(std::string format = "png", bool verbose = false, color_map fname_color_map = {},
                         color_map vname_color_map = {})
        : format_(std::move(format)), verbose_(verbose), fname_color_map_(std::move(fname_color_map)),
          vname_color_map_(std::move(vname_color_map)) {}

    const std::string& format() const { return format_; }
    bool verbose() const { return verbose_; }
    const color_map& fname_color_map() const { return fname_color_map_; }
    const color_map& vname_color_map() const { return vname_color_map_; }

    // ---- DOT text -------------------------------------------------------------------------------------
    template <std::size_t N, std::size_t E, std::size_t O>
    std::string create_graphviz_digraph(const graph<N, E, O>& g) const;

    template <graph_type G>
    std::string create_graphviz_digraph() const {
        return create_graphviz_digraph(G::graph);
    }

    // ---- rendering ------------------------------------------------------------------------------------
    // Whether GraphViz's `dot` is on PATH (what save/view/render need; create_graphviz_digraph does not).
    static bool dot_available() { return detail::find_executable("dot").has_value(); }

    // Writes `path` (the DOT source) and renders `path.<format>` with `dot -T<format>` (format empty:
    // this viewer's format; any format dot knows: "png", "svg", "pdf", ...). Both files are written
    // atomically (temporary sibling + rename): when rendering fails, an existing `path.<format>` keeps
    // its content and no temporary file is left (the new DOT source stays at `path`, for inspection).
    // cleanup: remove the DOT source after a successful render. Returns the rendered file's path.
    // Throws std::runtime_error when `dot` is not on PATH, when a file cannot be written (the message
    // names the path), or when `dot` fails (the message carries its exit status and diagnostics);
    // std::invalid_argument for an empty path or an empty or malformed format.
    // Argument order: (path, format, cleanup), as kata's issue specifies; upstream's save is
    // (fpath, cleanup, format). view() keeps upstream's (fpath, cleanup, format).
    template <std::size_t N, std::size_t E, std::size_t O>
    std::filesystem::path save(const graph<N, E, O>& g, const std::filesystem::path& path,
                               std::string_view format = {}, bool cleanup = false) const {
        return render(create_graphviz_digraph(g), path, format, cleanup);
    }
    template <graph_type G>
    std::filesystem::path save(const std::filesystem::path& path, std::string_view format = {},
                               bool cleanup = false) const {
        return save(G::graph, path, format, cleanup);
    }

    // Renders (to `path`, or a fresh file in the temporary directory when empty) and opens the result
    // with xdg-open (macOS: open) when a display is available. Without a display or a viewer (headless
    // CI), or when the viewer cannot be started, it does not fail: it prints where the file is on
    // std::clog. Returns the rendered file's path. Rendering errors are thrown as by save().
    // Argument order as upstream's view: (path, cleanup, format); note save's (path, format, cleanup).
    template <std::size_t N, std::size_t E, std::size_t O>
    std::filesystem::path view(const graph<N, E, O>& g, const std::filesystem::path& path = {},
                               bool cleanup = true, std::string_view format = {}) const {
        std::filesystem::path p = path;
        if (p.empty()) {
            std::error_code ec;
            auto dir = std::filesystem::temp_directory_path(ec);
            if (ec) dir = "/tmp";
            static std::atomic<unsigned> counter{0};
            p = dir / ("kata_simple_graph-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter.fetch_add(1)) + ".gv");
        }
        auto out = save(g, p, format, cleanup);
        if (!open_viewer(out))
            std::clog << "kata::SimpleGraph::view: no display or viewer available; the graph is at '"
                      << out.string() << "'\n";
        return out;
    }
    template <graph_type G>
    std::filesystem::path view(const std::filesystem::path& path = {}, bool cleanup = true,
                               std::string_view format = {}) const {
        return view(G::graph, path, cleanup, format);
    }

    // Renders DOT text (e.g. from create_graphviz_digraph, possibly edited) like save() does.
    std::filesystem::path render(const std::string& dot_text, const std::filesystem::path& path,
                                 std::string_view format = {}, bool cleanup = false) const {
        namespace vd = detail;
        const std::string fmt(format.empty() ? std::string_view(format_) : format);
        check_format(fmt);
        if (path.empty()) throw std::invalid_argument("kata::SimpleGraph: empty output path");
        const auto dot = vd::find_executable("dot");  // looked up on every call: PATH may change
        if (!dot)
            throw std::runtime_error(
                "kata::SimpleGraph: GraphViz's 'dot' executable was not found on PATH; install graphviz "
                "(e.g. 'apt-get install graphviz', 'brew install graphviz') to render graphs");
        vd::write_atomic(path, dot_text);
        std::filesystem::path out = path;
        out += "." + fmt;
        const auto tmp = vd::unique_sibling(out, "tmp");
        const auto err = vd::unique_sibling(out, "err");
        const int rc =
            vd::run_process(*dot, {"-T" + fmt, "-o", vd::as_argument(tmp), vd::as_argument(path)}, err);
        std::string diag = vd::read_text(err);
        std::error_code ec;
        std::filesystem::remove(err, ec);
        if (rc != 0) {
            std::filesystem::remove(tmp, ec);
            std::string msg =
                "kata::SimpleGraph: 'dot -T" + fmt + "' failed to render '" + out.string() + "'";
            msg += rc < 0 ? std::string(" (could not run or was killed)")
                          : " (exit status " + std::to_string(rc) + ")";
            if (!diag.empty()) msg += ": " + diag;
            throw std::runtime_error(msg);
        }
        if (std::rename(tmp.c_str(), out.c_str()) != 0) {
            const int e = errno;
            std::filesystem::remove(tmp, ec);
            throw std::runtime_error("kata::SimpleGraph: cannot write '" + out.string() +
                                     "': " + vd::errno_text(e));
        }
        if (cleanup) std::filesystem::remove(path, ec);
        return out;
    }

private:
    static void check_format(const std::string& fmt) {
        bool ok = !fmt.empty();
        for (char c : fmt)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == ':' || c == '_' || c == '.');
        if (!ok) throw std::invalid_argument("kata::SimpleGraph: invalid output format '" + fmt + "'");
    }

    static bool open_viewer(const std::filesystem::path& file) {
#if defined(__APPLE__)
        const char* opener = "open";
#else
        const char* opener = "xdg-open";
        if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return false;
#endif
        const auto exe = detail::find_executable(opener);
        if (!exe) return false;
        return detail::spawn_detached(*exe, detail::as_argument(file));
    }

    std::string function_color(std::string_view type) const {
        if (auto it = fname_color_map_.find(type); it != fname_color_map_.end()) return it->second;
        return detail::default_function_color(type);
    }

    std::string format_;
    bool verbose_;
    color_map fname_color_map_;
    color_map vname_color_map_;
};

template <std::size_t N, std::size_t E, std::size_t O>
std::string SimpleGraph::create_graphviz_digraph(const graph<N, E, O>& g) const {
    namespace vd = detail;
    // need_grad: inputs no, parameters as stored, function outputs when any input needs it. The visit
    // order has every producer before its consumers.
    std::vector<char> need_grad(N, 0);
    for (std::size_t i = 0; i < N; ++i)
        need_grad[i] = g.nodes[i].op == op_kind::parameter && g.nodes[i].need_grad;
    for (int k = 0; k < g.num_order; ++k) {
        const int f = g.order[std::size_t(k)];
        bool ng = false;
        for (int j = 0; j < g.nodes[std::size_t(f)].num_inputs; ++j)
            ng = ng || need_grad[std::size_t(g.input_of(f, j))];
        need_grad[std::size_t(f)] = ng;
    }

    // Scope pass (upstream `fscope`): a function's scope is the character-wise common prefix of
    // dirname(first parameter key) and the other parameter keys; each parameter's label is its key
    // with len(scope) + 1 characters removed (the last function visited wins, as upstream).
    std::vector<std::string> scope(N);
    std::vector<char> has_scope(N, 0);
    std::vector<std::string> param_label(N);
    for (int k = 0; k < g.num_order; ++k) {
        const int f = g.order[std::size_t(k)];
        std::vector<int> params;
        std::vector<std::string_view> names;
        for (int j = 0; j < g.nodes[std::size_t(f)].num_inputs; ++j) {
            const int in = g.input_of(f, j);
            if (g.nodes[std::size_t(in)].op != op_kind::parameter) continue;
            params.push_back(in);
            names.push_back(g.nodes[std::size_t(in)].name.view());
        }
        if (names.empty()) continue;
        std::vector<std::string_view> f_names = names;
        f_names[0] = vd::dirname(names[0]);
        const std::string_view c = vd::common_prefix(f_names);
        scope[std::size_t(f)] = std::string(c);
        has_scope[std::size_t(f)] = 1;
        for (std::size_t p = 0; p < params.size(); ++p) {
            const std::string_view n = names[p];
            // Empty scope (parameters at the root): the full key (upstream strips one character).
            param_label[std::size_t(params[p])] =
                c.empty() ? std::string(n) : std::string(n.size() > c.size() ? n.substr(c.size() + 1) : "");
        }
    }

    std::string out = "digraph {\n\tnode [style=filled]\n";
    std::vector<char> emitted(N, 0);
    auto var_id = [&](int v) {
        return vd::dot_quote(std::to_string(v) + (is_leaf(g.nodes[std::size_t(v)].op) ? "-0" : "-1"));
    };
    auto emit_var = [&](int v) {
        if (emitted[std::size_t(v)]) return;
        emitted[std::size_t(v)] = 1;
        const node& n = g.nodes[std::size_t(v)];
        const bool is_param = n.op == op_kind::parameter;
        const std::string vname = n.op == op_kind::input ? std::string(n.name.view()) : std::string();
        std::string label;
        if (is_param) {
            label = param_label[std::size_t(v)];
        } else {
            label = vname.empty() ? std::string("h") : vname;
            if (verbose_)
                label += "\n((" + vd::py_shape(n.shape) +
                         ", need_grad=" + vd::py_bool(need_grad[std::size_t(v)]) + "))";
        }
        std::string fill = "lightgray";
        if (is_param)
            fill = "pink";
        else if (auto it = vname_color_map_.find(vname); it != vname_color_map_.end())
            fill = it->second;
        const std::string border = need_grad[std::size_t(v)] ? std::string("black") : fill;
        out += "\t" + var_id(v) + " [label=" + vd::dot_quote(label) + " color=" + vd::dot_quote(border) +
               " fillcolor=" + vd::dot_quote(fill) + " shape=" + vd::dot_quote(verbose_ ? "" : "circle") +
               "]\n";
    };

    std::map<std::string, int, std::less<>> type_count;
    for (int k = 0; k < g.num_order; ++k) {
        const int f = g.order[std::size_t(k)];
        const node& fn = g.nodes[std::size_t(f)];
        const std::string type(type_name(fn.op));
        const std::string fid = vd::dot_quote(type + "-" + std::to_string(++type_count[type]));
        for (int j = 0; j < fn.num_inputs; ++j) {
            const int in = g.input_of(f, j);
            out += "\t" + var_id(in) + " -> " + fid + "\n";
            emit_var(in);
        }
        out += "\t" + fid + " -> " + var_id(f) + "\n";
        emit_var(f);
        std::string label = type;
        if (has_scope[std::size_t(f)] && !scope[std::size_t(f)].empty())
            label += "\n" + scope[std::size_t(f)];
        else if (verbose_)
            label += "\n(" + vd::args_json(fn) + ")";
        out += "\t" + fid + " [label=" + vd::dot_quote(label) +
               " color=" + vd::dot_quote(function_color(type)) +
               " fontcolor=white shape=" + (verbose_ ? "box" : "square") + "]\n";
    }
    // Outputs that are leaves (not reached by the visit).
    for (std::size_t o = 0; o < O; ++o) emit_var(g.outputs[o]);
    out += "}\n";
    return out;
}

}  // namespace kata
