# manpage.cmake - writes a program's man page from its own --help, so the
# page cannot drift from what the program parses (run at build time by
# deploy/CMakeLists.txt):
#   cmake -DPROG=path/to/binary -DNAME=patrond -DSUMMARY="..." -DVERSION=x.y.z
#         [-DCOMMANDS=ON] [-DEXTRA=file.man] -DOUT=patrond.1 -P manpage.cmake
# The help text goes in verbatim (.nf), with troff's special characters
# escaped; COMMANDS=ON (patron) adds every command's --help, read from the
# overview's command list; EXTRA is hand-written troff appended as is.

# The help text of PROG with args, escaped for troff.
function(help_of out)
  execute_process(COMMAND ${PROG} ${ARGN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROG} ${ARGN} exited ${rc}")
  endif()
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

string(TOUPPER ${NAME} upper)
string(REPLACE "-" "\\-" summary "${SUMMARY}")
help_of(help --help)
set(page ".\\\" Generated from `${NAME} --help` by cmake/manpage.cmake: do not edit.
.TH ${upper} 1 \"\" \"patron ${VERSION}\" \"Patron manual\"
.SH NAME
${NAME} \\- ${summary}
.SH DESCRIPTION
.nf
${help}.fi
")

if(COMMANDS)
  execute_process(COMMAND ${PROG} --help OUTPUT_VARIABLE overview)
  string(REGEX MATCHALL "\n  [a-z][a-z-]+ " lines "${overview}")
  string(APPEND page ".SH COMMANDS\n")
  foreach(line ${lines})
    string(STRIP "${line}" cmd)
    help_of(help ${cmd} --help)
    string(APPEND page ".SS ${cmd}\n.nf\n${help}.fi\n")
  endforeach()
endif()

if(EXTRA)
  file(READ ${EXTRA} extra)
  string(APPEND page "${extra}")
endif()
file(WRITE ${OUT} "${page}")
