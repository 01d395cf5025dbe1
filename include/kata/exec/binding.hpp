// kata/exec/binding.hpp
//
// How an executor meets the outside world's values: the parameter-source concept, and what happens
// when a parameter or an input does not match the graph.
//
// A parameter source maps a parameter key ("conv1/conv/W") to its values:
//
//     struct S {
//         using handle = ...;                        // contextually bool: false = not found
//         handle find(std::string_view name);        // at bind time, once per parameter
//         static parameter_view view(handle);        // pointer, dtype, shape (checked at bind time)
//         static void* data(handle);                 // the values now
//         // optional:
//         static constexpr std::string_view description = "the parameter store";  // for messages
//         template <auto const& G> static constexpr message_string check();  // compile-time binding
//     };
//
// An executor keeps the handles and calls S::data(h) at every call (a parameter store whose entries
// get new values is seen, kata::cpu::executor); a frozen executor also lets its preparing kernels read
// the parameters once, at bind time, and run on their prepared (packed) copy (kata::cpu::
// frozen_executor: new values reach those only through bind()). A source whose values are
// known to the compiler (kata/exec/constant_parameters.hpp) provides check<G>(): the executor then
// static_asserts that every parameter exists with the graph's dtype and shape, and a mismatch is a
// compile error naming the parameter and both shapes (through kata::exec::invalid_binding<"...">).
//
// Run-time mismatches (a parameter store entry of the wrong shape, an xt::xarray input of the wrong
// shape) are described by a binding_failure and reported by report(): on hosts with exceptions it
// throws kata::exec::binding_error (a std::runtime_error whose message names the parameter or input and
// both shapes); without exceptions (-fno-exceptions, bare metal) it traps. The message is formatted
// into a fixed-size kata::message_string: the core path needs no heap and no std::string.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "buffer.hpp"

#if defined(__cpp_exceptions)
#include <stdexcept>
#include <string>
#endif

namespace kata::exec {

// One parameter as a source holds it.
struct parameter_view {
    void* data = nullptr;  // mutable: BatchNormalization in batch_stat mode updates running statistics
    dtype type = dtype::f32;
    shape_t shape{};
    int rank = 0;  // the real rank (shape keeps at most max_rank dimensions)
};

template <class S>
concept parameter_source = requires(S& s, std::string_view name, const typename S::handle& h) {
    { s.find(name) } -> std::same_as<typename S::handle>;
    { S::view(h) } -> std::same_as<parameter_view>;
    { S::data(h) } -> std::same_as<void*>;
    {static_cast<bool>(h)};
};

// What did not match.
enum class failure_kind : std::uint8_t {
    missing_parameter,     // the source has no parameter of that name
    parameter_mismatch,    // dtype or shape differ from the graph's
    input_shape,           // a run-time-shaped input (xt::xarray...) of the wrong shape
    input_not_contiguous,  // a strided input for a backend that does not stage inputs (embedded)
    parameter_changed,     // at a call: a bound parameter's value was replaced with another shape or dtype
    concurrent_call,       // one executor entered from a second thread while a call was running
};

struct binding_failure {
    failure_kind kind = failure_kind::missing_parameter;
    std::string_view who;     // "kata::cpu::executor"
    std::string_view name;    // parameter key or input name
    std::string_view source;  // "the parameter store"
    buffer_desc expected{};
    dtype got_type = dtype::f32;
    shape_t got_shape{};
    int got_rank = 0;
    bool derived = false;  // missing_parameter: the name is one a graph conversion derives (apply_conversion)
};

namespace detail {

constexpr void append_dims(message_string& m, const shape_t& s, int rank) {
    m.append('(');
    for (int i = 0; i < rank && i < max_rank; ++i) {
        if (i) m.append(',');
        m.append_int(s.dims[i]);
    }
    if (rank > max_rank) m.append(",...");
    if (rank == 1) m.append(',');
    m.append(')');
}

}  // namespace detail

// "kata::cpu::executor: parameter 'b' has shape (8,) but the graph expects (7,)".
constexpr message_string describe(const binding_failure& f) {
    message_string m(f.who);
    m.append(": ");
    switch (f.kind) {
    case failure_kind::missing_parameter:
        m.append("parameter '").append(f.name).append("' with shape ");
        append_shape(m, f.expected.shape);
        m.append(" is not in ")
            .append(f.source.empty() ? std::string_view("the parameter source") : f.source);
        // A converted network reads parameters (w-folded, b-folded, *_cl...) that the conversion's
        // value rules compute from the trained ones: say which call makes them.
        if (f.derived)
            m.append(" (the graph conversion derives it from the trained parameters: call "
                     "kata::apply_conversion<Net>(store) before binding)");
        break;
    case failure_kind::parameter_mismatch:
        m.append("parameter '").append(f.name).append("' has ");
        if (f.got_type != f.expected.type) m.append("dtype ").append(dtype_name(f.got_type)).append(" and ");
        m.append("shape ");
        detail::append_dims(m, f.got_shape, f.got_rank);
        m.append(" but the graph expects ");
        if (f.got_type != f.expected.type) m.append(dtype_name(f.expected.type)).append(" ");
        append_shape(m, f.expected.shape);
        break;
    case failure_kind::parameter_changed:
        m.append("parameter '").append(f.name).append("' was replaced after bind() and now has ");
        if (f.got_type != f.expected.type) m.append("dtype ").append(dtype_name(f.got_type)).append(" and ");
        m.append("shape ");
        detail::append_dims(m, f.got_shape, f.got_rank);
        m.append(" but the executor bound it with ");
        if (f.got_type != f.expected.type) m.append(dtype_name(f.expected.type)).append(" ");
        append_shape(m, f.expected.shape);
        m.append(" (the graph's shape); nothing was run");
        break;
    case failure_kind::concurrent_call:
        m.append("called while another call of the same executor is running (one executor is not "
                 "re-entrant: give each thread its own executor; executors may share a parameter store)");
        break;
    case failure_kind::input_shape:
        m.append("input '").append(f.name).append("' has shape ");
        detail::append_dims(m, f.got_shape, f.got_rank);
        m.append(" but the graph expects ");
        append_shape(m, f.expected.shape);
        break;
    case failure_kind::input_not_contiguous:
        m.append("input '").append(f.name).append("' is not contiguous (row-major) and this backend does ");
        m.append("not copy inputs: pass a pointer or a contiguous container");
        break;
    }
    return m;
}

#if defined(__cpp_exceptions)
// Thrown when parameters or inputs do not match the graph type (hosts with exceptions).
class binding_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
#endif

// Reports a run-time binding failure: throws binding_error where exceptions exist, traps otherwise.
[[noreturn]] inline void report(const binding_failure& f) {
#if defined(__cpp_exceptions)
    throw binding_error(std::string(describe(f).view()));
#else
    (void)f;
    __builtin_trap();
#endif
}

// Raised when a compile-time parameter source does not match the graph. The message (parameter,
// dtypes, shapes) is the template argument, which the compiler prints in the diagnostic.
template <message_string Message>
struct invalid_binding {
    static_assert(Message.empty(),
                  "kata: the parameters do not match the graph; the reason is the message in "
                  "'kata::exec::invalid_binding<...>' shown in this diagnostic");
    static constexpr bool ok = true;
};

// Raised when an input whose shape is part of its type (xt::xtensor_fixed, ...) does not match.
template <message_string Message>
struct invalid_input {
    static_assert(Message.empty(), "kata: an input does not match the graph; the reason is the message in "
                                   "'kata::exec::invalid_input<...>' shown in this diagnostic");
    static constexpr bool ok = true;
};

}  // namespace kata::exec
