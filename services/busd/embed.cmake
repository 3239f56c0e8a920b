# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake: a file's bytes as
# a C array (NUL-terminated) and its length, so a binary carries its own copy
# of a data file (the built-in G.BMS register map).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE "${OUT}" "/* Generated from ${IN} by embed.cmake; do not edit. */\n#include <stddef.h>\nconst char ${NAME}[] = {\n${body}0};\nconst size_t ${NAME}_len = ${len};\n")
