# kata_write_if_changed(<file> <text>): writes <text> to <file> only when the content differs, so that
# re-configuring does not touch (and make rebuild) generated sources that did not change.
function(kata_write_if_changed file text)
    if(EXISTS "${file}")
        file(READ "${file}" old)
        if(old STREQUAL text)
            return()
        endif()
    endif()
    file(WRITE "${file}" "${text}")
endfunction()
