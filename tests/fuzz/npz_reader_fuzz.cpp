// libFuzzer target for kata's .npz/.npy reader (untrusted input).
//
// Contract under test: for ANY byte string, kata::io::read_npz either returns entries whose views lie
// inside the input, or throws kata::io_error. Anything else -- a crash, an ASan report, another
// exception type, a huge allocation (libFuzzer's -rss_limit_mb / -malloc_limit_mb) -- is a bug.
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/npz_reader_fuzz.cpp
// Run:   ./a.out -max_total_time=60 tests/fuzz/corpus
#include <kata/io/npz.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    try {
        const auto entries = kata::io::read_npz(in, "fuzz.npz");
        for (const auto& e : entries) {
            // Views must stay inside the input buffer.
            if (!e.array.data.empty() && (e.array.data.data() < in.data() ||
                                          e.array.data.data() + e.array.data.size() > in.data() + in.size()))
                __builtin_trap();
            // Exercise the typed copy for the main element type.
            if (e.array.dtype == kata::io::npy_dtype::f4) (void)kata::io::to_xarray<float>(e.array, e.name);
            if (e.array.dtype == kata::io::npy_dtype::b1) (void)kata::io::to_xarray<bool>(e.array, e.name);
        }
        // Parsing a lone NPY from the same bytes covers the header parser directly too.
    } catch (const kata::io_error&) {
    }
    try {
        (void)kata::io::parse_npy(in, "fuzz.npy");
    } catch (const kata::io_error&) {
    }
    return 0;
}
