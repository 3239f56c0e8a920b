/* Test-only: the small site alarmd_control_test and control_fuzz build a
 * real alarmd from (one simulated gateway of two strings of nine, every
 * endpoint an ipc:// path in dir), written to dir/site.json. */
#ifndef OW_ALARMD_TEST_SITE_H
#define OW_ALARMD_TEST_SITE_H

#include <stdio.h>

/* path gets dir/site.json; -1 if it cannot be written. */
static inline int alarmd_test_site(const char *dir, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/site.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "{\"site\":{\"name\":\"%s\"},\"gateways\":[{\"id\":\"wm1\",\"source\":\"sim\","
            "\"publish\":\"ipc://%s/p\",\"replay\":\"ipc://%s/r\",\"strings\":["
            "{\"name\":\"A\",\"modules\":9},{\"name\":\"B\",\"modules\":9}],"
            "\"journal_messages\":1000}],"
            "\"services\":{\"alarmd\":{\"journal_messages\":1000,"
            "\"publish\":\"ipc://%s/ap\",\"control\":\"ipc://%s/ac\","
            "\"replay\":\"ipc://%s/ar\",\"state_file\":\"%s/state.json\"}}}\n",
            name, dir, dir, dir, dir, dir, dir);
    return fclose(f) == 0 ? 0 : -1;
}

#endif
