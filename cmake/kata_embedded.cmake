# Embedded builds (issue #14), host side. Included by the top-level CMakeLists.txt when tests are built.
#
#   kata_weights_header      the weights tool (tools/weights_header.cpp): .npz -> C++ header of constant
#                            arrays + constant parameter table
#   embedded_lenet_host      the LeNet firmware's source built for the host with its host board
#                            (-fno-exceptions -fno-rtti, kata's headers only, allocations counted)
#   check_lenet              compares a firmware's printed logits with the CPU executor and PyTorch
#   embedded_all_ops_host, check_all_ops   the same for a network using every op kind
#   kata_firmware_<board>    ExternalProject (boards mps2-an386: Cortex-M4F, mps3-an547: Cortex-M55):
#                            the firmware sub-build (embedded/CMakeLists.txt) with the
#                            bare-metal toolchain file, only when arm-none-eabi-g++ and qemu-system-arm
#                            exist; the host build's own flags and targets are untouched
#   embedded_size_report_<board>   build target printing the size report (also a ctest)
#
# ctests (label embedded): embedded_lenet_host, embedded_all_ops_host; embedded_lenet_qemu_<board>,
# embedded_all_ops_qemu_<board> and embedded_size_report_<board>, which report SKIP (exit 77, SKIP_RETURN_CODE) with the reason when the
# toolchain or QEMU is missing -- never a silent pass. Install them with tools/deps.sh (embedded).
include(ExternalProject)

add_executable(kata_weights_header "${PROJECT_SOURCE_DIR}/tools/weights_header.cpp")
target_link_libraries(kata_weights_header PRIVATE kata::kata)

set(_kata_lenet_npz "${PROJECT_SOURCE_DIR}/tests/fixtures/embedded/lenet.npz")
set(_kata_gen "${PROJECT_BINARY_DIR}/embedded/host/generated")
add_custom_command(OUTPUT "${_kata_gen}/lenet_weights.hpp"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_kata_gen}"
    COMMAND kata_weights_header --namespace kata_lenet "${_kata_lenet_npz}" "${_kata_gen}/lenet_weights.hpp"
    DEPENDS kata_weights_header "${_kata_lenet_npz}"
    COMMENT "kata_weights_header: lenet.npz -> lenet_weights.hpp (host)")

# The tool's command line: --only with a name the file lacks is an error naming it.
add_test(NAME embedded_weights_header_unknown_array
    COMMAND kata_weights_header --only conv1/W,nope "${_kata_lenet_npz}" "${PROJECT_BINARY_DIR}/embedded/unused.hpp")
set_tests_properties(embedded_weights_header_unknown_array PROPERTIES LABELS embedded
                     PASS_REGULAR_EXPRESSION "lenet.npz: no array 'nope'")

add_custom_target(kata_lenet_weights_host DEPENDS "${_kata_gen}/lenet_weights.hpp")

# The firmware's weights: LeNet trained on Fashion-MNIST (tools/fixtures/train_fashion_lenet.py); only the
# parameters, the input image and PyTorch's logits go into flash (not the calibration and test images).
set(_kata_fashion_npz "${PROJECT_SOURCE_DIR}/tests/fixtures/embedded/lenet_fashion.npz")
set(KATA_LENET_FLOAT_ARRAYS "conv1/W,conv1/b,bn1/beta,bn1/gamma,bn1/mean,bn1/var,conv2/W,conv2/b,bn2/beta,bn2/gamma,bn2/mean,bn2/var,fc1/W,fc1/b,fc2/W,fc2/b,fc3/W,fc3/b,x,y")
add_custom_command(OUTPUT "${_kata_gen}/lenet_fashion_weights.hpp"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_kata_gen}"
    COMMAND kata_weights_header --namespace kata_lenet --only "${KATA_LENET_FLOAT_ARRAYS}" "${_kata_fashion_npz}"
            "${_kata_gen}/lenet_fashion_weights.hpp"
    DEPENDS kata_weights_header "${_kata_fashion_npz}"
    COMMENT "kata_weights_header: lenet_fashion.npz -> lenet_fashion_weights.hpp (host)")

# The int8 path: the quantization tool (calibration + per-channel int8 weights), run at build time on the
# float weights; its .npz feeds the weights tool (host) and the firmware sub-builds.
add_executable(kata_quantize_lenet "${PROJECT_SOURCE_DIR}/tools/quantize_lenet.cpp")
target_link_libraries(kata_quantize_lenet PRIVATE kata::kata)
set(KATA_LENET_INT8_NPZ "${_kata_gen}/lenet_int8.npz")
add_custom_command(OUTPUT "${KATA_LENET_INT8_NPZ}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_kata_gen}"
    COMMAND kata_quantize_lenet "${_kata_fashion_npz}" "${KATA_LENET_INT8_NPZ}"
    DEPENDS kata_quantize_lenet "${_kata_fashion_npz}"
    COMMENT "kata_quantize_lenet: lenet_fashion.npz -> lenet_int8.npz")
add_custom_command(OUTPUT "${_kata_gen}/lenet_int8_weights.hpp"
    COMMAND kata_weights_header --namespace kata_lenet_int8 "${KATA_LENET_INT8_NPZ}" "${_kata_gen}/lenet_int8_weights.hpp"
    DEPENDS kata_weights_header "${KATA_LENET_INT8_NPZ}"
    COMMENT "kata_weights_header: lenet_int8.npz -> lenet_int8_weights.hpp (host)")
add_custom_target(kata_lenet_int8_npz DEPENDS "${KATA_LENET_INT8_NPZ}")
# tests/embedded/weights_header.cpp compiles the generated header in.
if(TARGET test_embedded_weights_header)
    target_include_directories(test_embedded_weights_header PRIVATE "${_kata_gen}")
    add_dependencies(test_embedded_weights_header kata_lenet_weights_host)
endif()

# The firmware as a host program: kata's include directory only (not kata::kata, which brings xtensor,
# BLAS and threads), the same freestanding flags as on the device.
add_executable(embedded_lenet_host
    "${PROJECT_SOURCE_DIR}/embedded/firmware/lenet.cpp"
    "${PROJECT_SOURCE_DIR}/embedded/boards/host/board.cpp"
    "${_kata_gen}/lenet_fashion_weights.hpp")
target_include_directories(embedded_lenet_host PRIVATE "${PROJECT_SOURCE_DIR}/include" "${_kata_gen}"
                                                       "${PROJECT_SOURCE_DIR}/embedded/firmware")
target_compile_features(embedded_lenet_host PRIVATE cxx_std_20)
target_compile_options(embedded_lenet_host PRIVATE -fno-exceptions -fno-rtti -Wall)

add_executable(check_lenet "${PROJECT_SOURCE_DIR}/tests/embedded/firmware/check_lenet.cpp")
target_link_libraries(check_lenet PRIVATE kata::kata)

# The int8 firmware as a host program, and its checker (the host int8 executor on the same header).
add_executable(embedded_lenet_int8_host
    "${PROJECT_SOURCE_DIR}/embedded/firmware/lenet_int8.cpp"
    "${PROJECT_SOURCE_DIR}/embedded/boards/host/board.cpp"
    "${_kata_gen}/lenet_int8_weights.hpp")
target_include_directories(embedded_lenet_int8_host PRIVATE "${PROJECT_SOURCE_DIR}/include" "${_kata_gen}"
                                                            "${PROJECT_SOURCE_DIR}/embedded/firmware")
target_compile_features(embedded_lenet_int8_host PRIVATE cxx_std_20)
target_compile_options(embedded_lenet_int8_host PRIVATE -fno-exceptions -fno-rtti -Wall)
add_executable(check_lenet_int8 "${PROJECT_SOURCE_DIR}/tests/embedded/firmware/check_lenet_int8.cpp"
                                "${_kata_gen}/lenet_int8_weights.hpp")
target_include_directories(check_lenet_int8 PRIVATE "${PROJECT_SOURCE_DIR}/include" "${_kata_gen}")
target_compile_features(check_lenet_int8 PRIVATE cxx_std_20)
add_test(NAME embedded_lenet_int8_host
    COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=$<TARGET_FILE:embedded_lenet_int8_host>"
            "-DLOG=${PROJECT_BINARY_DIR}/embedded/host/lenet_int8_output.txt" "-DCHECKER=$<TARGET_FILE:check_lenet_int8>"
            -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
set_tests_properties(embedded_lenet_int8_host PROPERTIES LABELS embedded TIMEOUT 300)

# Every op kind on the embedded kernels, as a host program too.
add_executable(embedded_all_ops_host
    "${PROJECT_SOURCE_DIR}/embedded/firmware/all_ops.cpp" "${PROJECT_SOURCE_DIR}/embedded/boards/host/board.cpp")
target_include_directories(embedded_all_ops_host PRIVATE "${PROJECT_SOURCE_DIR}/include"
                                                         "${PROJECT_SOURCE_DIR}/embedded/firmware")
target_compile_features(embedded_all_ops_host PRIVATE cxx_std_20)
target_compile_options(embedded_all_ops_host PRIVATE -fno-exceptions -fno-rtti -Wall)
add_executable(check_all_ops "${PROJECT_SOURCE_DIR}/tests/embedded/firmware/check_all_ops.cpp")
target_link_libraries(check_all_ops PRIVATE kata::kata)

add_test(NAME embedded_lenet_host
    COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=$<TARGET_FILE:embedded_lenet_host>"
            "-DLOG=${PROJECT_BINARY_DIR}/embedded/host/lenet_output.txt" "-DCHECKER=$<TARGET_FILE:check_lenet>"
            "-DNPZ=${_kata_fashion_npz}" -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
add_test(NAME embedded_all_ops_host
    COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=$<TARGET_FILE:embedded_all_ops_host>"
            "-DLOG=${PROJECT_BINARY_DIR}/embedded/host/all_ops_output.txt" "-DCHECKER=$<TARGET_FILE:check_all_ops>"
            -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
set_tests_properties(embedded_lenet_host embedded_all_ops_host PROPERTIES LABELS embedded TIMEOUT 300)

# ---- the Cortex-M firmware under QEMU ------------------------------------------------------------------
option(KATA_EMBEDDED_FIRMWARE "Build the Cortex-M firmware when arm-none-eabi-g++ and qemu-system-arm exist" ON)
find_program(KATA_ARM_GXX arm-none-eabi-g++ DOC "bare-metal Arm C++ compiler (Debian gcc-arm-none-eabi)")
find_program(KATA_QEMU_ARM qemu-system-arm DOC "QEMU Arm system emulator (Debian qemu-system-arm)")
find_program(KATA_ARM_SIZE_HOST arm-none-eabi-size)
find_program(KATA_ARM_NM_HOST arm-none-eabi-nm)

# kata_add_firmware(<board> <qemu machine> <toolchain file> <name printed by the firmware>)
function(kata_add_firmware board machine toolchain board_name)
    string(MAKE_C_IDENTIFIER "${board}" id)
    set(missing "")
    foreach(v KATA_ARM_GXX KATA_QEMU_ARM KATA_ARM_SIZE_HOST KATA_ARM_NM_HOST)
        if(NOT ${v})
            list(APPEND missing ${v})
        endif()
    endforeach()
    if(NOT KATA_EMBEDDED_FIRMWARE)
        set(missing "KATA_EMBEDDED_FIRMWARE=OFF")
    endif()
    if(missing)
        message(STATUS "kata: embedded firmware for ${board} not built (missing: ${missing}); its tests will SKIP "
                       "(bash tools/deps.sh embedded installs the toolchain)")
        foreach(t embedded_lenet_qemu_${id} embedded_all_ops_qemu_${id} embedded_size_report_${id}
                  embedded_lenet_int8_qemu_${id} embedded_size_report_int8_${id})
            add_test(NAME ${t} COMMAND sh -c "echo 'SKIP: ${missing} not found (install with: bash tools/deps.sh embedded)'; exit 77")
            set_tests_properties(${t} PROPERTIES LABELS embedded SKIP_RETURN_CODE 77)
        endforeach()
        return()
    endif()
    set(bin "${PROJECT_BINARY_DIR}/embedded/${board}")
    ExternalProject_Add(kata_firmware_${id}
        SOURCE_DIR "${PROJECT_SOURCE_DIR}/embedded"
        BINARY_DIR "${bin}"
        CMAKE_ARGS "-DCMAKE_TOOLCHAIN_FILE=${toolchain}" -DCMAKE_BUILD_TYPE=Release "-DKATA_BOARD=${board}"
                   "-DKATA_BOARD_NAME=${board_name}"
                   "-DKATA_WEIGHTS_TOOL=$<TARGET_FILE:kata_weights_header>"
                   "-DKATA_HANA_INCLUDE_DIR=${Boost_INCLUDE_DIRS}"
                   "-DKATA_INT8_NPZ=${KATA_LENET_INT8_NPZ}"
                   "-DKATA_LENET_FLOAT_ARRAYS=${KATA_LENET_FLOAT_ARRAYS}"
        BUILD_ALWAYS ON
        INSTALL_COMMAND ""
        DEPENDS kata_weights_header kata_lenet_int8_npz)
    set(elf "${bin}/lenet_firmware.elf")
    set(qemu "${KATA_QEMU_ARM}|-M|${machine}|-nographic|-monitor|none|-serial|none|-semihosting-config|enable=on,target=native|-kernel|${elf}")
    add_test(NAME embedded_lenet_qemu_${id}
        COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=${qemu}" "-DLOG=${bin}/lenet_output.txt"
                "-DCHECKER=$<TARGET_FILE:check_lenet>" "-DNPZ=${_kata_fashion_npz}"
                -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
    set(elf_int8 "${bin}/lenet_int8_firmware.elf")
    set(qemu_int8 "${KATA_QEMU_ARM}|-M|${machine}|-nographic|-monitor|none|-serial|none|-semihosting-config|enable=on,target=native|-kernel|${elf_int8}")
    add_test(NAME embedded_lenet_int8_qemu_${id}
        COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=${qemu_int8}" "-DLOG=${bin}/lenet_int8_output.txt"
                "-DCHECKER=$<TARGET_FILE:check_lenet_int8>" -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
    set(report_int8_args "-DELF=${elf_int8}" "-DSIZE=${KATA_ARM_SIZE_HOST}" "-DNM=${KATA_ARM_NM_HOST}"
                         "-DCOMMAND=${qemu_int8}" "-DOUT=${bin}/size_report_int8.md" "-DBOARD=${board} int8")
    add_test(NAME embedded_size_report_int8_${id}
        COMMAND "${CMAKE_COMMAND}" ${report_int8_args} -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_size_report.cmake")
    set_tests_properties(embedded_lenet_int8_qemu_${id} embedded_size_report_int8_${id}
                         PROPERTIES LABELS embedded TIMEOUT 300)
    set(qemu_all_ops "${KATA_QEMU_ARM}|-M|${machine}|-nographic|-monitor|none|-serial|none|-semihosting-config|enable=on,target=native|-kernel|${bin}/all_ops_firmware.elf")
    add_test(NAME embedded_all_ops_qemu_${id}
        COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=${qemu_all_ops}" "-DLOG=${bin}/all_ops_output.txt"
                "-DCHECKER=$<TARGET_FILE:check_all_ops>" -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_run.cmake")
    set(report_args "-DELF=${elf}" "-DSIZE=${KATA_ARM_SIZE_HOST}" "-DNM=${KATA_ARM_NM_HOST}" "-DCOMMAND=${qemu}"
                    "-DOUT=${bin}/size_report.md" "-DBOARD=${board}")
    add_test(NAME embedded_size_report_${id}
        COMMAND "${CMAKE_COMMAND}" ${report_args} -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_size_report.cmake")
    set_tests_properties(embedded_lenet_qemu_${id} embedded_all_ops_qemu_${id} embedded_size_report_${id}
                         PROPERTIES LABELS embedded TIMEOUT 300)
    add_custom_target(embedded_size_report_${id}
        COMMAND "${CMAKE_COMMAND}" ${report_args} -P "${PROJECT_SOURCE_DIR}/cmake/kata_embedded_size_report.cmake"
        DEPENDS kata_firmware_${id} USES_TERMINAL)
endfunction()

kata_add_firmware(mps2-an386 mps2-an386 "${PROJECT_SOURCE_DIR}/cmake/toolchains/arm-none-eabi-cortex-m4.cmake"
                  "mps2-an386 (Cortex-M4F, QEMU)")
kata_add_firmware(mps3-an547 mps3-an547 "${PROJECT_SOURCE_DIR}/cmake/toolchains/arm-none-eabi-cortex-m55.cmake"
                  "mps3-an547 (Cortex-M55, QEMU)")
