// Compile-fail check of the poison directory (test consumer_core_poison): kata/cpu.hpp needs xtensor and
// BLAS, so with the poison directory first on the include path this TU must stop at a poisoned header.
// If it compiled, consumer_core would prove nothing.
#include <kata/cpu.hpp>
