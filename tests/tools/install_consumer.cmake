# ctest install_consumer: `cmake --install` into a scratch prefix, then configure, build and run
# examples/cpp (find_package(calisim)) against that prefix only. Fails on any step.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/calisim/calico/cluster.hpp bin/calisim)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()

set(flags)
if(SANITIZE)
  # The installed library was built with the sanitizers: the program links their runtimes.
  set(flags -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
endif()
step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/cpp -B ${WORK_DIR}/build -G Ninja
     -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} ${flags})
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/lab_ping)
string(FIND "${last_output}" "icmp_seq=3 ttl=62" at)
if(at EQUAL -1)
  message(FATAL_ERROR "lab_ping printed no third reply with ttl=62:\n${last_output}")
endif()
message(STATUS "lab_ping against the installed calisim:\n${last_output}")
file(REMOVE_RECURSE ${WORK_DIR})
