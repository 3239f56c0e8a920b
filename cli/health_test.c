/* The address `ohmwatch health snmpd` asks for each form of `listen`. */
#include <stdio.h>
#include <string.h>

#include "health.h"

static int fails;

static void peer(const char *listen, const char *want)
{
    char got[300];
    ow_health_snmp_peer(listen, got, sizeof got);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "FAIL listen '%s': asked '%s', want '%s'\n", listen, got, want);
        fails++;
    }
}

int main(void)
{
    peer("udp:161", "udp:127.0.0.1:161");
    peer("161", "udp:127.0.0.1:161");
    peer("", "udp:127.0.0.1:161");
    peer("udp:0.0.0.0:1161", "udp:127.0.0.1:1161");
    peer("udp:127.0.0.1:1161", "udp:127.0.0.1:1161");
    peer("UDP:10.1.2.3:161", "udp:10.1.2.3:161");
    peer("udp:10.1.2.3", "udp:10.1.2.3:161");
    peer("tcp:161", "tcp:127.0.0.1:161");
    peer("udp:161,tcp:161", "udp:127.0.0.1:161");
    peer("udp:localhost:1161", "udp:localhost:1161");
    peer("udp6:[::]:1161", "udp6:[::1]:1161");
    peer("udp6:161", "udp6:[::1]:161");
    peer("udp6:[fd00::5]:161", "udp6:[fd00::5]:161");
    peer("unix:/run/ohmwatch/snmp.sock", "unix:/run/ohmwatch/snmp.sock");
    if (fails) return 1;
    printf("health_test: all passed\n");
    return 0;
}
