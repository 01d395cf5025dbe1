// kata/core/scratch.hpp
//
// detail::scratch<T>: an owning array of n value-initialised T for constant evaluation (graph passes'
// working arrays: visit marks, stacks, id maps, hash slots).
//
// Why not std::vector<T>(n, value): clang counts its constant-evaluation budget (-fconstexpr-steps,
// 2^20 per evaluation by default) per statement evaluated, and libstdc++'s fill constructor runs
// several nested calls per element (~24 steps per element measured with clang 14: a vector of 1,000
// ints cost 24,000 steps). `new T[n]()` value-initialises the whole array without evaluating a
// statement per element for trivial T (0 steps for 1,000 ints), and a fill with another value is one
// step per element. g++ counts operations (-fconstexpr-ops-limit) and is cheaper on these arrays too.
// Issue 16: every pass of a 3,201-node graph must fit clang's default budget.
#pragma once

#include <cstddef>
#include <type_traits>
// std::allocator and std::construct_at, which <vector> brings without what libstdc++'s <memory> also
// pulls in (<string>, <stdexcept>: the execution layer stays free of them, ctest exec_freestanding).
#include <vector>

namespace kata::detail {

template <class T>
class scratch {
public:
    constexpr scratch() = default;
    // n value-initialised elements (zero for arithmetic T).
    constexpr explicit scratch(std::size_t n) : p_(n ? new T[n]() : nullptr), n_(n) {}
    // n elements equal to v.
    constexpr scratch(std::size_t n, const T& v) : scratch(n) { fill(v); }
    // A copy of [first, first + n).
    constexpr scratch(const T* first, std::size_t n) : scratch(n) {
        for (std::size_t i = 0; i < n; ++i) p_[i] = first[i];
    }
    constexpr scratch(const scratch& o) : scratch(o.p_, o.n_) {}
    constexpr scratch(scratch&& o) noexcept : p_(o.p_), n_(o.n_) {
        o.p_ = nullptr;
        o.n_ = 0;
    }
    constexpr scratch& operator=(const scratch& o) {
        if (this != &o) *this = scratch(o);
        return *this;
    }
    constexpr scratch& operator=(scratch&& o) noexcept {
        if (this != &o) {
            delete[] p_;
            p_ = o.p_;
            n_ = o.n_;
            o.p_ = nullptr;
            o.n_ = 0;
        }
        return *this;
    }
    constexpr ~scratch() { delete[] p_; }

    constexpr void fill(const T& v) {
        for (std::size_t i = 0; i < n_; ++i) p_[i] = v;
    }

    constexpr T* data() { return p_; }
    constexpr const T* data() const { return p_; }
    constexpr std::size_t size() const { return n_; }
    constexpr T& operator[](std::size_t i) { return p_[i]; }
    constexpr const T& operator[](std::size_t i) const { return p_[i]; }

private:
    T* p_ = nullptr;
    std::size_t n_ = 0;
};

// detail::growable<T>: the builder's node, edge and output lists (a std::vector subset: push_back,
// reserve, size, data, indexing, iteration, clear, erase) for trivially copyable and destructible T.
//
// Why not std::vector: under clang's per-statement budget libstdc++'s push_back costs ~25 evaluation
// steps (push_back -> allocator_traits::construct -> construct_at, each a call), its reallocation and
// destruction several steps per element; a graph's lift pushes one node and one or two edges per node,
// which made the containers a quarter of a 3,201-node lift (issue 16). Here a push_back is a
// construct_at into storage from std::allocator (constant evaluation allows no other way to start an
// element's lifetime), and storage is released without per-element destruction (trivially
// destructible T).
template <class T>
class growable {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    using value_type = T;
    using iterator = T*;
    using const_iterator = const T*;

    constexpr growable() = default;
    constexpr growable(const growable& o) { assign(o.p_, o.n_); }
    constexpr growable(growable&& o) noexcept : p_(o.p_), n_(o.n_), cap_(o.cap_) {
        o.p_ = nullptr;
        o.n_ = o.cap_ = 0;
    }
    constexpr growable& operator=(const growable& o) {
        if (this != &o) assign(o.p_, o.n_);
        return *this;
    }
    constexpr growable& operator=(growable&& o) noexcept {
        if (this != &o) {
            release();
            p_ = o.p_;
            n_ = o.n_;
            cap_ = o.cap_;
            o.p_ = nullptr;
            o.n_ = o.cap_ = 0;
        }
        return *this;
    }
    constexpr ~growable() { release(); }

    constexpr void reserve(std::size_t c) {
        if (c > cap_) reallocate(c);
    }
    constexpr void push_back(const T& v) {
        if (n_ == cap_) reallocate(cap_ ? 2 * cap_ : 16);
        std::construct_at(p_ + n_, v);
        ++n_;
    }
    constexpr void clear() { n_ = 0; }
    // Erases [first, last), moving the tail down.
    constexpr T* erase(const T* first, const T* last) {
        const std::size_t f = std::size_t(first - p_), l = std::size_t(last - p_);
        for (std::size_t i = l; i < n_; ++i) p_[f + i - l] = p_[i];
        n_ -= l - f;
        return p_ + f;
    }

    constexpr std::size_t size() const { return n_; }
    constexpr std::size_t capacity() const { return cap_; }
    constexpr bool empty() const { return n_ == 0; }
    constexpr T* data() { return p_; }
    constexpr const T* data() const { return p_; }
    constexpr T& operator[](std::size_t i) { return p_[i]; }
    constexpr const T& operator[](std::size_t i) const { return p_[i]; }
    constexpr T& back() { return p_[n_ - 1]; }
    constexpr const T& back() const { return p_[n_ - 1]; }
    constexpr T* begin() { return p_; }
    constexpr T* end() { return p_ + n_; }
    constexpr const T* begin() const { return p_; }
    constexpr const T* end() const { return p_ + n_; }

private:
    constexpr void reallocate(std::size_t c) {
        T* q = std::allocator<T>().allocate(c);
        for (std::size_t i = 0; i < n_; ++i) std::construct_at(q + i, p_[i]);
        const std::size_t n = n_;
        release();
        p_ = q;
        n_ = n;
        cap_ = c;
    }
    constexpr void assign(const T* from, std::size_t n) {
        release();
        if (n == 0) return;
        p_ = std::allocator<T>().allocate(n);
        for (std::size_t i = 0; i < n; ++i) std::construct_at(p_ + i, from[i]);
        n_ = cap_ = n;
    }
    constexpr void release() {
        if (p_) std::allocator<T>().deallocate(p_, cap_);
        p_ = nullptr;
        n_ = cap_ = 0;
    }

    T* p_ = nullptr;
    std::size_t n_ = 0, cap_ = 0;
};

}  // namespace kata::detail
