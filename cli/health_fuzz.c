/* libFuzzer target: `ohmwatch health webd`'s reading of webd's reply (the
 * HTTP response, its JSON), which a process on webd's port could send
 * anything as. Each reply must be judged healthy or not with a line saying
 * so; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    static ow_webd_cfg_t cfg = {.listen = "127.0.0.1:8443", .tls = 1};
    if (!null) null = fopen("/dev/null", "w");
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* The first byte picks a gateway filter: none, or one by name. */
    int r = ow_health_webd_reply(s, &cfg, size && data[0] & 1 ? "wm1" : NULL, 60, null);
    if (r != 0 && r != 1) abort();
    free(s);
    return 0;
}
