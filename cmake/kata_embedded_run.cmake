# ctest driver of the embedded firmware tests (cmake -P): runs the firmware (under QEMU or as the host
# build), saves its output, requires exit status 0, then runs the checker on the output.
#   -DCOMMAND=<program|arg|...>  -DLOG=<file>  -DCHECKER=<checker>  [-DNPZ=<fixture>]  [-DTIMEOUT=<s>]
# The checker is called as `<checker> <log> [<fixture>]`.
string(REPLACE "|" ";" cmd "${COMMAND}")
if(NOT TIMEOUT)
    set(TIMEOUT 120)
endif()
execute_process(COMMAND ${cmd} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT ${TIMEOUT})
file(WRITE "${LOG}" "${out}")
message("${out}")
if(err)
    message("stderr:\n${err}")
endif()
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "firmware failed (exit status: ${rc}); output in ${LOG}")
endif()
execute_process(COMMAND "${CHECKER}" "${LOG}" ${NPZ} RESULT_VARIABLE crc)
if(NOT crc EQUAL 0)
    message(FATAL_ERROR "${CHECKER} rejected the firmware's output (${LOG})")
endif()
