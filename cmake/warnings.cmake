# Warnings for calisim's own targets only (third-party headers are system includes).
function(calisim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(CALISIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
