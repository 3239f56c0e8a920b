/* The reference server for bench/modbus_rate.sh and bench/field_cycle.sh: the
 * minimal libmodbus TCP server (modbus_mapping_new + modbus_receive/
 * modbus_reply, one client at a time, as libmodbus's own examples do)
 * holding registers FIRST..FIRST+COUNT-1 (holding and input; default
 * 1000..3681, the G.BMS map) and coils and discrete inputs 0..15.
 * Usage: ow-bench-modbus-loop PORT [FIRST COUNT] */
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 1502;
    int first = argc > 3 ? atoi(argv[2]) : 1000, count = argc > 3 ? atoi(argv[3]) : 2682;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t *map =
        modbus_mapping_new_start_address(0, 16, 0, 16, first, count, first, count);
    int ls = ctx && map ? modbus_tcp_listen(ctx, 16) : -1;
    if (ls < 0) {
        fprintf(stderr, "modbus_loop: %s\n", modbus_strerror(errno));
        return 1;
    }
    for (;;) {
        if (modbus_tcp_accept(ctx, &ls) < 0) break;
        uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
        int n;
        while ((n = modbus_receive(ctx, q)) >= 0)
            if (n > 0) modbus_reply(ctx, q, n, map);
        close(modbus_get_socket(ctx));
    }
    return 0;
}
