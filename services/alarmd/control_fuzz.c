/* libFuzzer target: any bytes as a control request body, answered by a real
 * alarmd object (one simulated gateway, sockets on ipc:// and its state file
 * in a temporary directory). Whatever the request, the answer is a reply
 * body the codec accepts, followed by whole [topic, body] pairs, and nothing
 * crashes or leaks. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alarmd.h"
#include "alarmd_test_site.h"
#include "ow_log.h"
#include "ow_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ow_alarmd_t *fz;
static char dir[] = "/tmp/ow-control-fuzz-XXXXXX";

/* At exit, before the leak check: sockets closed, the directory removed. */
static void teardown(void)
{
    static const char *const files[] = {"site.json", "state.json", "state.json.tmp",
                                        "ap",        "ac",         "ar"};
    char path[96];
    ow_alarmd_destroy(&fz);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
}

static ow_alarmd_t *fuzz_alarmd(void)
{
    char path[64], err[1024];
    if (fz) return fz;
    ow_log_set_verbosity(-1); /* a refusal per input would be most of the time */
    if (!mkdtemp(dir)) abort();
    if (alarmd_test_site(dir, "fuzz", path, sizeof path) < 0) abort();
    fz = ow_alarmd_new(path, err, sizeof err);
    if (!fz) {
        fprintf(stderr, "control_fuzz: %s\n", err);
        abort();
    }
    atexit(teardown);
    return fz;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ow_peer_t peer = {.who = "fuzz",
                                   .roles = OW_ROLE_READ | OW_ROLE_OPERATE | OW_ROLE_CONFIGURE |
                                            OW_ROLE_BREAKER};
    ow_alarmd_t *a = fuzz_alarmd();
    zmsg_t *out = ow_alarmd_control(a, data, size, &peer);
    if (!out || zmsg_size(out) % 2 != 1) abort(); /* a reply, then pairs */
    zframe_t *r = zmsg_first(out);
    ow_msg_t m;
    char err[256];
    if (ow_decode(NULL, 0, (const char *)zframe_data(r), zframe_size(r), &m, err, sizeof err,
                  NULL) != OW_PERR_OK ||
        m.kind != OW_MSG_REPLY)
        abort(); /* alarmd's own reply must be within the contract */
    for (zframe_t *t = zmsg_next(out); t; t = zmsg_next(out)) {
        zframe_t *b = zmsg_next(out);
        if (ow_decode((const char *)zframe_data(t), zframe_size(t), (const char *)zframe_data(b),
                      zframe_size(b), &m, err, sizeof err, NULL) != OW_PERR_OK)
            abort(); /* and so must every message that comes with it */
    }
    zmsg_destroy(&out);
    return 0;
}
