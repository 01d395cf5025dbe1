# Size report of an embedded firmware (cmake -P; ctest embedded_size_report_<board> and the build target of
# the same name). Issue #14: flash (text + rodata) and RAM (data + bss + stack) beside the sum of the
# weights and the largest set of simultaneously live activations.
#   -DELF=<firmware.elf> -DSIZE=<arm-none-eabi-size> -DNM=<arm-none-eabi-nm> -DCOMMAND=<qemu|...>
#   -DOUT=<report.md> -DBOARD=<name>
# The compile-time figures (arena, workspace, live-activation bound, weights) and the measured stack
# high-water mark come from the firmware's own output (it prints them); section sizes from
# `arm-none-eabi-size -A`. Fails when
#   * the ELF links any heap allocator (malloc, free, _sbrk, operator new ...): "no heap" is a link
#     property here, not a promise;
#   * the planned activation arena exceeds the live-activation lower bound by more than 10 %.
string(REPLACE "|" ";" cmd "${COMMAND}")
execute_process(COMMAND ${cmd} OUTPUT_VARIABLE out RESULT_VARIABLE rc TIMEOUT 120)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "firmware failed (exit status ${rc}):\n${out}")
endif()
foreach(key arena_bytes workspace_bytes staging_bytes executor_bytes live_activation_bound parameter_bytes stack_used
            stack_reserved)
    if(NOT out MATCHES "(^|\n)${key} (-?[0-9]+)")
        message(FATAL_ERROR "firmware output lacks '${key}':\n${out}")
    endif()
    set(${key} ${CMAKE_MATCH_2})
endforeach()

execute_process(COMMAND "${SIZE}" -A -d "${ELF}" OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SIZE} failed on ${ELF}")
endif()
foreach(sec text rodata ARM.exidx data bss stack)
    string(REPLACE "." "\\." re "${sec}")
    if(sections MATCHES "\n\\.${re}[ \t]+([0-9]+)")
        set(s_${sec} ${CMAKE_MATCH_1})
    else()
        set(s_${sec} 0)
    endif()
endforeach()
math(EXPR flash "${s_text} + ${s_rodata} + ${s_ARM.exidx} + ${s_data}")
math(EXPR ram "${s_data} + ${s_bss} + ${s_stack}")
math(EXPR arena_total "${arena_bytes} + ${workspace_bytes}")
math(EXPR rodata_other "${s_rodata} - ${parameter_bytes}")
math(EXPR arena_permille "${arena_bytes} * 1000 / ${live_activation_bound}")

execute_process(COMMAND "${NM}" "${ELF}" OUTPUT_VARIABLE symbols)
set(heap_symbols "")
foreach(sym malloc _malloc_r free _free_r calloc realloc _sbrk _sbrk_r _Znwj _Znaj _ZdlPv)
    if(symbols MATCHES "[ \t][TtWw] ${sym}\n")
        list(APPEND heap_symbols ${sym})
    endif()
endforeach()

string(CONCAT report
    "| ${BOARD} | bytes | what |\n"
    "|---|---:|---|\n"
    "| **flash** | **${flash}** | .text + .rodata + .ARM.exidx + .data image |\n"
    "| .text | ${s_text} | code (kernels, start-up, libc/libm pieces) |\n"
    "| .rodata | ${s_rodata} | of which weights ${parameter_bytes} (sum of the graph's parameters), other ${rodata_other} (input image, reference logits, tables, strings) |\n"
    "| **RAM** | **${ram}** | .data + .bss + .stack |\n"
    "| .data | ${s_data} | |\n"
    "| .bss | ${s_bss} | of which the executor object ${executor_bytes}: activation arena ${arena_bytes} + kernel workspace ${workspace_bytes} + input staging ${staging_bytes} + node pointers |\n"
    "| .stack | ${s_stack} | reserved; measured high-water mark ${stack_used} |\n"
    "| live-activation lower bound | ${live_activation_bound} | largest set of simultaneously live activations (compile time) |\n"
    "| arena / bound | ${arena_permille} per mille | target <= 1100 |\n"
    "| heap allocator linked | ${heap_symbols} | (empty: none) |\n")
file(WRITE "${OUT}" "${report}")
message("${report}\n(written to ${OUT})")
if(heap_symbols)
    message(FATAL_ERROR "the firmware links a heap allocator: ${heap_symbols}")
endif()
if(arena_permille GREATER 1100)
    message(FATAL_ERROR "activation arena ${arena_bytes} exceeds the live-activation bound ${live_activation_bound} by more than 10 %")
endif()
