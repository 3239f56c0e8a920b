/* The reference for bench/field_cycle.sh: a bare libmodbus client sending a
 * list of read requests (what `ohmwatch-busd --plan` prints) back to back,
 * CYCLES times, and printing the median time of one pass in µs: the floor a
 * poll cycle of busd's field driver stands against (no decoding, no
 * publishing). Usage: ow-bench-modbus-reads PORT UNIT CYCLES < PLAN */
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int fc[512], addr[512], count[512], n = 0;
    if (argc < 4) {
        fprintf(stderr, "usage: ow-bench-modbus-reads PORT UNIT CYCLES < PLAN\n");
        return 2;
    }
    int cycles = atoi(argv[3]);
    while (n < 512 && scanf("%d %d %d", &fc[n], &addr[n], &count[n]) == 3)
        n++;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    long long *t = calloc((size_t)cycles, sizeof *t);
    if (!ctx || !t || cycles < 1 || modbus_set_slave(ctx, atoi(argv[2])) < 0 ||
        modbus_connect(ctx) < 0) {
        fprintf(stderr, "modbus_reads: %s\n", modbus_strerror(errno));
        return 1;
    }
    uint16_t regs[125];
    uint8_t bits[2000];
    for (int c = 0; c < cycles; c++) {
        long long t0 = now_us();
        for (int i = 0; i < n; i++) {
            int rc = fc[i] == 1   ? modbus_read_bits(ctx, addr[i], count[i], bits)
                     : fc[i] == 2 ? modbus_read_input_bits(ctx, addr[i], count[i], bits)
                     : fc[i] == 3 ? modbus_read_registers(ctx, addr[i], count[i], regs)
                                  : modbus_read_input_registers(ctx, addr[i], count[i], regs);
            if (rc != count[i]) {
                fprintf(stderr, "modbus_reads: FC%d %d+%d: %s\n", fc[i], addr[i], count[i],
                        modbus_strerror(errno));
                return 1;
            }
        }
        t[c] = now_us() - t0;
    }
    qsort(t, (size_t)cycles, sizeof *t, cmp);
    printf("%lld\n", t[cycles / 2]);
    modbus_close(ctx);
    modbus_free(ctx);
    free(t);
    return 0;
}
