# Run as: cmake -DCOMPILER=<c++> -DSOURCE=<file> -DREGEX=<regex> -DINCLUDES=<a|b|c> -DDEFINES=<a|b>
#               [-DFLAGS=<a|b>] -P kata_compile_fail.cmake
# Succeeds iff compiling SOURCE fails AND the compiler's output matches REGEX.
foreach(v COMPILER SOURCE REGEX)
    if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
        message(FATAL_ERROR "kata_compile_fail: ${v} not set")
    endif()
endforeach()

set(args -fsyntax-only -std=c++20)
if(DEFINED FLAGS AND NOT FLAGS STREQUAL "")
    string(REPLACE "|" ";" _flags "${FLAGS}")
    list(APPEND args ${_flags})
endif()
string(REPLACE "|" ";" _incs "${INCLUDES}")
foreach(d IN LISTS _incs)
    if(NOT d STREQUAL "")
        list(APPEND args "-I${d}")
    endif()
endforeach()
string(REPLACE "|" ";" _defs "${DEFINES}")
foreach(d IN LISTS _defs)
    if(NOT d STREQUAL "")
        list(APPEND args "-D${d}")
    endif()
endforeach()

execute_process(COMMAND "${COMPILER}" ${args} "${SOURCE}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)

if(rc EQUAL 0)
    message(FATAL_ERROR "kata_compile_fail: ${SOURCE} compiled successfully but was expected to fail.\n"
        "Command: ${COMPILER} ${args} ${SOURCE}\nOutput:\n${out}")
endif()
if(NOT out MATCHES "${REGEX}")
    message(FATAL_ERROR "kata_compile_fail: ${SOURCE} failed to compile (as expected) but the diagnostics "
        "do not match the regex '${REGEX}'.\nCommand: ${COMPILER} ${args} ${SOURCE}\nOutput:\n${out}")
endif()
message(STATUS "kata_compile_fail: ${SOURCE} failed as expected; diagnostics match '${REGEX}'")
