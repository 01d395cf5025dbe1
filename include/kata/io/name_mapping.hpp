// kata/io/name_mapping.hpp
//
// Purpose: load parameter files whose names and layouts differ from kata's in one call, e.g. a
// PyTorch state dict saved with numpy.savez:
//
//     using kata::io::tensor_transform;
//     kata::io::name_mapping m{.rules = {
//         {"layer*.*.bn*.running_mean", "layer*/*/conv*/bn/mean", tensor_transform::reshape({1, -1, 1, 1})},
//         {"fc.weight", "fc/affine/W", tensor_transform::transpose({1, 0})},
//         kata::io::rename_rule::skip("**.num_batches_tracked"),
//     }};
//     store.load("resnet50_torchvision.npz", m, kata::load_mode::strict);
//
// parameter_store::load(path, mapping, mode) applies the mapping to every entry of the file before
// the usual checks, so a mapped load has the same errors (file, parameter -- and here also the file
// entry it came from --, expected and found shape/dtype) and the same strong guarantee as a plain
// one: everything is read, renamed, reshaped and validated before the store changes.
//
// Why rules with '*' and not std::regex: the names come from untrusted files, and libstdc++'s
// regex recurses per character (a long name can overflow the stack). A rule pattern is matched by
// a table walk whose cost is (pattern length x name length), whatever the input.
//
// Rules:
//   * `from` is matched against the whole entry name. '*' matches one or more characters other
//     than '.' and '/' (one component of a dotted or slashed name), '**' one or more characters of
//     any kind (several components); every other character matches itself. When wildcards could
//     split a name differently, each takes as little as it can, left to right.
//   * `to` is the parameter name (relative to the store's current scope); each wildcard in it ('*'
//     or '**', the same) is replaced by the text the next wildcard of `from` matched, in order.
//   * the first rule that matches decides; a rule made by rename_rule::skip drops the entry.
//   * an entry no rule matches: an io_error naming the file and the entry (the default), or kept
//     under its own name (unmatched_entries::keep), or dropped (unmatched_entries::skip).
//   * `rename`, when set, replaces the rules: it returns the parameter name and transform for an
//     entry name, or std::nullopt to drop the entry.
// Transforms (tensor_transform): first a permutation of the axes (numpy.transpose(a, axes)), then
// a reshape (numpy.reshape; one dimension may be -1 and is inferred). A reshape only relabels
// the row-major data; a transpose moves it (one copy of that tensor during the load).
#pragma once

#include "npy.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kata::io {

/// How one file tensor becomes one parameter: axes permutation, then reshape (see header comment).
struct tensor_transform {
    std::vector<std::size_t> axes;                   ///< numpy.transpose's axes; empty: none
    std::optional<std::vector<std::int64_t>> shape;  ///< numpy.reshape's shape (one -1); nullopt: none

    static tensor_transform transpose(std::vector<std::size_t> axes) {
        return {std::move(axes), std::nullopt};
    }
    static tensor_transform reshape(std::vector<std::int64_t> shape) { return {{}, std::move(shape)}; }
    /// This transform followed by a reshape.
    tensor_transform then_reshape(std::vector<std::int64_t> s) const {
        tensor_transform t = *this;
        t.shape = std::move(s);
        return t;
    }

    /// Whether the data has to move (a permutation other than the identity).
    bool moves_data() const noexcept {
        for (std::size_t i = 0; i < axes.size(); ++i)
            if (axes[i] != i) return true;
        return false;
    }

    /// The shape a tensor of shape `in` has after the transform. Throws io_error prefixed by `what`
    /// when the axes are no permutation of in's axes or the reshape does not fit the element count.
    std::vector<std::size_t> apply(std::span<const std::size_t> in, std::string_view what) const {
        std::vector<std::size_t> s(in.begin(), in.end());
        auto fail = [&](const std::string& msg) { throw io_error(std::string(what) + ": " + msg); };
        if (!axes.empty()) {
            std::vector<bool> used(in.size(), false);
            bool ok = axes.size() == in.size();
            for (std::size_t i = 0; ok && i < axes.size(); ++i) {
                ok = axes[i] < in.size() && !used[axes[i]];
                if (ok) used[axes[i]] = true;
            }
            if (!ok)
                fail("transpose axes " + shape_repr(axes) + " are not a permutation of the axes of shape " +
                     shape_repr(s));
            for (std::size_t i = 0; i < axes.size(); ++i) s[i] = in[axes[i]];
        }
        if (shape) {
            std::size_t count = 1;
            for (std::size_t d : s) count *= d;  // cannot overflow: parse_npy checked the data size
            std::size_t known = 1;
            int infer = -1;
            bool ok = true;
            for (std::size_t i = 0; i < shape->size(); ++i) {
                const std::int64_t d = (*shape)[i];
                if (d == -1 && infer < 0)
                    infer = int(i);
                else if (d < 0)
                    ok = false;
                else if (d != 0 && known > std::numeric_limits<std::size_t>::max() / std::size_t(d))
                    ok = false;
                else
                    known *= std::size_t(d);
            }
            std::vector<std::size_t> out(shape->size());
            for (std::size_t i = 0; ok && i < shape->size(); ++i) out[i] = std::size_t((*shape)[i]);
            if (ok && infer >= 0) {
                ok = known != 0 && count % known == 0;
                if (ok) out[std::size_t(infer)] = count / known;
            } else if (ok) {
                ok = known == count;
            }
            if (!ok) {
                std::string want = "(";
                for (std::size_t i = 0; i < shape->size(); ++i)
                    want += (i ? ", " : "") + std::to_string((*shape)[i]);
                want += shape->size() == 1 ? ",)" : ")";
                fail("cannot reshape " + shape_repr(s) + " (" + std::to_string(count) + " elements) to " +
                     want);
            }
            s = std::move(out);
        }
        return s;
    }
};

/// What a mapping makes of one file entry.
struct mapped_entry {
    std::string name;  ///< parameter name, relative to the store's current scope
    tensor_transform transform;
};

/// One rename rule (see the header comment for the pattern syntax).
struct rename_rule {
    std::string from;
    std::string to;
    tensor_transform transform{};
    bool drop = false;  ///< drop matching entries (made by rename_rule::skip)

    /// A rule that drops the entries `pattern` matches (e.g. PyTorch's "*.num_batches_tracked").
    static rename_rule skip(std::string pattern) { return {std::move(pattern), {}, {}, true}; }
};

enum class unmatched_entries {
    error,  ///< an entry no rule matches is an io_error (default: a typo in a rule never goes unseen)
    keep,   ///< kept under its own name, untransformed
    skip,   ///< dropped
};

struct name_mapping {
    std::vector<rename_rule> rules;
    unmatched_entries unmatched = unmatched_entries::error;
    /// When set, used instead of the rules: parameter name and transform, or nullopt to drop.
    std::function<std::optional<mapped_entry>(std::string_view entry)> rename;
};

namespace detail {

inline bool glob_separator(char c) noexcept { return c == '.' || c == '/'; }

/// A pattern as tokens: a character, '*' (kind 1) or '**' (kind 2).
struct glob_token {
    char c;
    int kind;
};

inline std::vector<glob_token> glob_tokens(std::string_view pat) {
    std::vector<glob_token> t;
    for (std::size_t i = 0; i < pat.size(); ++i) {
        if (pat[i] != '*')
            t.push_back({pat[i], 0});
        else if (i + 1 < pat.size() && pat[i + 1] == '*')
            t.push_back({'*', 2}), ++i;
        else
            t.push_back({'*', 1});
    }
    return t;
}

/// Matches `pat` ('*' = one or more non-separator characters, '**' = one or more characters) against
/// the whole of `s`; on success appends what each wildcard matched to `caps` (each as short as
/// possible, left to right).
inline bool glob_match(std::string_view pat, std::string_view s, std::vector<std::string_view>& caps) {
    const std::vector<glob_token> tok = glob_tokens(pat);
    const std::size_t m = tok.size(), n = s.size();
    // ok[i * (n + 1) + j]: tok[i..] matches s[j..]. Filled from the end.
    std::vector<unsigned char> ok((m + 1) * (n + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> unsigned char& { return ok[i * (n + 1) + j]; };
    at(m, n) = 1;
    for (std::size_t i = m; i-- > 0;) {
        for (std::size_t j = n; j-- > 0;) {  // a token needs at least one input character
            const glob_token& t = tok[i];
            if (t.kind == 0)
                at(i, j) = t.c == s[j] && at(i + 1, j + 1);
            else if (t.kind == 2 || !glob_separator(s[j]))
                at(i, j) = at(i + 1, j + 1) || at(i, j + 1);
        }
    }
    if (!at(0, 0)) return false;
    std::size_t j = 0;
    for (std::size_t i = 0; i < m; ++i) {
        if (tok[i].kind == 0) {
            ++j;
            continue;
        }
        std::size_t k = j + 1;      // shortest span that still lets the rest match (a wildcard's span is
        while (!at(i + 1, k)) ++k;  // separator-free up to any valid end, so the shortest one is too)
        caps.push_back(s.substr(j, k - j));
        j = k;
    }
    return true;
}

inline std::size_t count_wildcards(std::string_view s) {
    std::size_t n = 0;
    for (const auto& t : glob_tokens(s)) n += t.kind != 0;
    return n;
}

}  // namespace detail

/// Throws std::invalid_argument for a rule whose replacement uses more '*' than its pattern has.
inline void check_mapping(const name_mapping& m) {
    for (const auto& r : m.rules) {
        if (r.from.empty())
            throw std::invalid_argument("kata::io::name_mapping: a rule has an empty pattern");
        if (!r.drop && detail::count_wildcards(r.to) > detail::count_wildcards(r.from))
            throw std::invalid_argument("kata::io::name_mapping: rule '" + r.from + "' -> '" + r.to +
                                        "' uses more wildcards in its replacement than its pattern captures");
    }
}

/// What `m` makes of the file entry `entry`: the parameter name and transform, or std::nullopt
/// when the entry is dropped. Throws io_error prefixed by `what` when no rule matches and
/// m.unmatched is unmatched_entries::error.
inline std::optional<mapped_entry> apply_mapping(const name_mapping& m, std::string_view entry,
                                                 std::string_view what) {
    if (m.rename) return m.rename(entry);
    std::vector<std::string_view> caps;
    for (const auto& r : m.rules) {
        caps.clear();
        if (!detail::glob_match(r.from, entry, caps)) continue;
        if (r.drop) return std::nullopt;
        mapped_entry out{{}, r.transform};
        std::size_t k = 0;
        for (const auto& t : detail::glob_tokens(r.to)) {
            if (t.kind != 0)
                out.name.append(caps[k++]);  // check_mapping: enough captures
            else
                out.name.push_back(t.c);
        }
        return out;
    }
    switch (m.unmatched) {
    case unmatched_entries::keep: return mapped_entry{std::string(entry), {}};
    case unmatched_entries::skip: return std::nullopt;
    case unmatched_entries::error: break;
    }
    throw io_error(std::string(what) + ": no rename rule matches this entry (add a rule, or set "
                                       "name_mapping::unmatched to keep or skip such entries)");
}

}  // namespace kata::io
