# Writes OUT, a C source defining `const unsigned char NAME[]` and
# `const size_t NAME_len` with the bytes of IN (used for the API's
# FileDescriptorSet, which server reflection serves). Pure CMake: no xxd.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT}
  "/* Generated from ${IN} by proto/embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {\n${body}\n};\n"
  "const size_t ${NAME}_len = ${bytes};\n")
