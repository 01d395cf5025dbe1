// Minimal consumer of kata (installed package or add_subdirectory).
// TODO(lead): switch to <kata/kata.hpp> once the umbrella header exists.
#include <kata/version.hpp>

#include <cstdio>
#include <cstring>

int main() {
    static_assert(KATA_VERSION_MAJOR == 0 && KATA_VERSION_MINOR == 1);
    std::printf("kata %s\n", kata::version);
    return std::strcmp(kata::version, "0.1.0") == 0 ? 0 : 1;
}
