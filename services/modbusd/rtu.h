/* modbusd's Modbus RTU server: one serial line, frames delimited by
 * silence, answered from the same register images as TCP. */
#ifndef OW_MB_RTU_H
#define OW_MB_RTU_H

#include <termios.h>

/* The rates a line can be set to, for messages and docs. */
#define OW_MB_BAUDS_DOC "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200"

/* The termios speed of a baud rate, 0 if it is not one of OW_MB_BAUDS_DOC. */
speed_t ow_mb_baud_speed(int baud);

#endif
