# buildinfo_check.cmake - cmake/buildinfo.cmake outside a git checkout says
# "unknown", a given COMMIT wins (sanitized), and an unchanged header is not
# rewritten (so nothing recompiles). Run by ctest as
#   cmake -DSCRIPT=.../buildinfo.cmake -DWORK=DIR -P buildinfo_check.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/src)
set(out ${WORK}/patron_build.h)

function(run_buildinfo commit)
  execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/src -DOUT=${out}
                          -DVERSION=9.8.7 -DCOMMIT=${commit} -P ${SCRIPT}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "buildinfo.cmake failed: ${rc}")
  endif()
endfunction()

run_buildinfo("")
file(READ ${out} text)
if(NOT text MATCHES "PATRON_BUILD_VERSION \"9.8.7\"" OR
   NOT text MATCHES "PATRON_BUILD_COMMIT \"unknown\"")
  message(FATAL_ERROR "outside git, expected version 9.8.7 and commit unknown:\n${text}")
endif()

file(TIMESTAMP ${out} before "%s")
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1)
run_buildinfo("")
file(TIMESTAMP ${out} after "%s")
if(NOT before STREQUAL after)
  message(FATAL_ERROR "an unchanged header was rewritten")
endif()

run_buildinfo("v1.2-3-gabc\" evil")
file(READ ${out} text)
if(NOT text MATCHES "PATRON_BUILD_COMMIT \"v1.2-3-gabc__evil\"")
  message(FATAL_ERROR "a given COMMIT must win, sanitized:\n${text}")
endif()
message(STATUS "buildinfo: unknown outside git, COMMIT override, no needless rewrite")
