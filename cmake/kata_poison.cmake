# kata_make_poison_dir(<out_var>): a directory that shadows every header of kata::io's and kata::cpu's
# dependencies (xtensor, xtl, xsimd, xtensor-blas, CBLAS/OpenBLAS) with a file that stops the compile
# with #error naming the header. Placed first on the include path (-I, searched before the system
# directories where those libraries really are), it proves that a kata::core program or header reaches
# none of them, even by accident, on a machine where they are installed. Used by the core consumer
# test and kata_core_header_check (cmake/kata_header_check.cmake). The shadowed names are every header
# those libraries install (globbed from their include directories), not only the ones kata uses today.
include(kata_write_if_changed)

function(kata_make_poison_dir out_var)
    set(dir "${PROJECT_BINARY_DIR}/kata_poison_include")
    set(roots "")
    foreach(t IN ITEMS xtensor xtl xsimd)
        if(TARGET ${t})
            get_target_property(d ${t} INTERFACE_INCLUDE_DIRECTORIES)
            if(d)
                list(APPEND roots ${d})
            endif()
        endif()
    endforeach()
    find_path(_kata_cblas_dir cblas.h)
    list(APPEND roots /usr/include /usr/local/include)
    list(REMOVE_DUPLICATES roots)
    set(names "")
    foreach(r IN LISTS roots)
        foreach(lib IN ITEMS xtensor xtl xsimd xtensor-blas)
            if(IS_DIRECTORY "${r}/${lib}")
                file(GLOB_RECURSE hs RELATIVE "${r}" "${r}/${lib}/*")
                list(APPEND names ${hs})
            endif()
        endforeach()
    endforeach()
    # The libraries' top-level headers (the same names on every installation, wherever cblas.h lives).
    list(APPEND names cblas.h cblas-openblas.h cblas-netlib.h cblas_f77.h cblas_mangling.h f77blas.h
         openblas_config.h lapacke.h xtensor.hpp)
    list(REMOVE_DUPLICATES names)
    list(LENGTH names n)
    if(n LESS 20)
        message(FATAL_ERROR "kata_make_poison_dir: found only ${n} headers to shadow (xtensor not found?)")
    endif()
    foreach(h IN LISTS names)
        kata_write_if_changed("${dir}/${h}"
            "#error \"kata::core must not reach <${h}> (a kata::io / kata::cpu dependency; see cmake/kata_poison.cmake)\"\n")
    endforeach()
    message(STATUS "kata: poison include directory shadows ${n} xtensor/xtl/xsimd/BLAS headers (${dir})")
    set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()
