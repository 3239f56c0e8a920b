/* modbusd's Modbus RTU server (rtu.h). */
#include "rtu.h"

#include <stddef.h>

static const struct {
    int baud;
    speed_t speed;
} bauds[] = {{1200, B1200},   {2400, B2400},   {4800, B4800},   {9600, B9600},
             {19200, B19200}, {38400, B38400}, {57600, B57600}, {115200, B115200}};

speed_t ow_mb_baud_speed(int baud)
{
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == baud) return bauds[i].speed;
    return 0;
}
