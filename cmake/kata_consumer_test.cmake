# Package-consumer tests, run as: cmake -DMODE=<install|subdir> -DKATA_SOURCE_DIR=... -DKATA_BINARY_DIR=...
#   -DCONSUMER_DIR=<tests/consumer> -DWORK_DIR=<scratch> -DCXX=<c++> [-DBUILD_TYPE=...] -P kata_consumer_test.cmake
# install: cmake --install the kata build tree into WORK_DIR/prefix, then configure/build/run the consumer with
#          find_package(kata CONFIG REQUIRED).
# subdir:  configure/build/run a consumer that does add_subdirectory(<kata source> kata-build).
# core:    install as above, then configure/build/run CONSUMER_DIR/core (find_package(kata COMPONENTS core),
#          links kata::core only) with find_package of xtensor, xtl, xsimd and BLAS disabled and
#          -DPOISON_DIR=<cmake/kata_poison.cmake's directory> first on its include path.
foreach(v MODE KATA_SOURCE_DIR KATA_BINARY_DIR CONSUMER_DIR WORK_DIR CXX)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "kata_consumer_test: ${v} not set")
    endif()
endforeach()
if(NOT DEFINED BUILD_TYPE OR BUILD_TYPE STREQUAL "")
    set(BUILD_TYPE Release)
endif()

function(run_step name)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        string(REPLACE ";" " " cmd "${ARGN}")
        message(FATAL_ERROR "kata_consumer_test[${MODE}]: step '${name}' failed (${rc}).\n"
            "Command: ${cmd}\nOutput:\n${out}")
    endif()
    message(STATUS "kata_consumer_test[${MODE}]: ${name} ok")
    set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(bdir "${WORK_DIR}/build")

if(MODE STREQUAL "install")
    set(prefix "${WORK_DIR}/prefix")
    run_step(install "${CMAKE_COMMAND}" --install "${KATA_BINARY_DIR}" --prefix "${prefix}")
    run_step(configure "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${bdir}"
        "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
elseif(MODE STREQUAL "core")
    if(NOT DEFINED POISON_DIR OR NOT IS_DIRECTORY "${POISON_DIR}")
        message(FATAL_ERROR "kata_consumer_test[core]: POISON_DIR not set or missing")
    endif()
    set(prefix "${WORK_DIR}/prefix")
    run_step(install "${CMAKE_COMMAND}" --install "${KATA_BINARY_DIR}" --prefix "${prefix}")
    run_step(configure "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}/core" -B "${bdir}"
        "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
        "-DKATA_POISON_DIR=${POISON_DIR}"
        -DCMAKE_DISABLE_FIND_PACKAGE_xtensor=ON -DCMAKE_DISABLE_FIND_PACKAGE_xtl=ON
        -DCMAKE_DISABLE_FIND_PACKAGE_xsimd=ON -DCMAKE_DISABLE_FIND_PACKAGE_BLAS=ON)
elseif(MODE STREQUAL "subdir")
    run_step(configure "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}/subdir" -B "${bdir}"
        "-DKATA_SOURCE_DIR=${KATA_SOURCE_DIR}" "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
    # As a sub-project kata must not add its tests/examples/benchmarks.
    if(EXISTS "${bdir}/kata-build/tests" OR EXISTS "${bdir}/kata-build/examples")
        message(FATAL_ERROR "kata_consumer_test[subdir]: kata built tests/examples as a sub-project")
    endif()
else()
    message(FATAL_ERROR "kata_consumer_test: unknown MODE '${MODE}'")
endif()

run_step(build "${CMAKE_COMMAND}" --build "${bdir}")
run_step(run "${bdir}/kata_consumer")
message(STATUS "consumer output: ${step_output}")
