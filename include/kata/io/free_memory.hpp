// kata/io/free_memory.hpp
//
// io::return_free_memory, on its own so that the executors' parameter source (kata/io/parameter_source.hpp)
// need not parse the file layer (kata/io/file.hpp, which includes this: <filesystem>, <fstream>, the NPY
// reader).
#pragma once

#if defined(__GLIBC__) && __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace kata::io {

/// Hands the free memory of the C heap back to the system (glibc: malloc_trim(0); elsewhere a
/// no-op). Why: glibc raises its mmap threshold up to 32 MiB each time a large block is freed, so the
/// arrays a conversion creates after freeing trained weights come from the heap, and freeing them later
/// (a frozen executor consuming the store) leaves their pages resident: ~60 MiB on ResNet-50. The
/// deploy paths that erase parameters (apply_conversion's drop, consume_parameters) call this after
/// erasing, so the process's resident memory follows what it holds.
inline void return_free_memory() noexcept {
#if defined(__GLIBC__) && __has_include(<malloc.h>)
    ::malloc_trim(0);
#endif
}

}  // namespace kata::io
