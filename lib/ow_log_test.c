/* ow_log_clean: a message with a stranger's bytes stays one line. */
#include <string.h>

#include "ow_log.h"
#include "ow_test.h"

int main(void)
{
    char a[] = "refused path /x\n2026-12-07T00:00:00.000Z webd[info] login admin ok";
    ow_log_clean(a);
    CHECK(strchr(a, '\n') == NULL);
    CHECK_STR(a, "refused path /x?2026-12-07T00:00:00.000Z webd[info] login admin ok");
    char b[] = "user \x1b[2Jroot\x7f\r\tend";
    ow_log_clean(b);
    CHECK_STR(b, "user ?[2Jroot???end");
    /* UTF-8 (a site name, a unit) is kept as it is */
    char c[] = "Temperature 25 \xc2\xb0"
               "C, Wettingen";
    ow_log_clean(c);
    CHECK(strcmp(c, "Temperature 25 \xc2\xb0"
                    "C, Wettingen") == 0);
    return ow_test_done("log_test");
}
