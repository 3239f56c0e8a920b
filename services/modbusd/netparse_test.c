/* netparse: every accepted form, and each malformed one refused with a
 * message naming it (never cut short, never widened to 0.0.0.0/0). */
#include <string.h>

#include "netparse.h"
#include "ow_test.h"

static int cidr_ok(const char *s, uint32_t net, uint32_t mask)
{
    uint32_t n = 1, m = 1;
    char err[256] = "";
    return ow_parse_cidr(s, &n, &m, err, sizeof err) == 0 && n == net && m == mask && !err[0];
}

static int cidr_bad(const char *s, const char *why)
{
    uint32_t n = 7, m = 7;
    char err[256] = "";
    return ow_parse_cidr(s, &n, &m, err, sizeof err) == -1 && strstr(err, why) && n == 7 && m == 7;
}

static int listen_ok(const char *s, uint32_t addr, uint16_t port)
{
    uint32_t a = 1;
    uint16_t p = 1;
    char err[256];
    return ow_parse_listen(s, &a, &p, err, sizeof err) == 0 && a == addr && p == port;
}

static int listen_bad(const char *s, const char *why)
{
    uint32_t a = 7;
    uint16_t p = 7;
    char err[256] = "";
    return ow_parse_listen(s, &a, &p, err, sizeof err) == -1 && strstr(err, why) && p == 7;
}

int main(void)
{
    CHECK(cidr_ok("10.0.0.0/8", 0x0A000000u, 0xFF000000u));
    CHECK(cidr_ok("192.168.1.20", 0xC0A80114u, 0xFFFFFFFFu));
    CHECK(cidr_ok("192.0.2.0/24", 0xC0000200u, 0xFFFFFF00u));
    CHECK(cidr_ok("127.0.0.1/32", 0x7F000001u, 0xFFFFFFFFu));
    CHECK(cidr_ok("0.0.0.0/0", 0, 0)); /* everyone, but only when written so */
    CHECK(cidr_ok("255.255.255.255/32", 0xFFFFFFFFu, 0xFFFFFFFFu));

    CHECK(cidr_bad("10.0.0.0/33", "prefix length must be 0..32"));
    CHECK(cidr_bad("10.0.0.0/", "prefix length"));
    CHECK(cidr_bad("10.0.0.0/-1", "prefix length"));
    CHECK(cidr_bad("10.0.0.0/08", "prefix length"));
    CHECK(cidr_bad("10.0.0.0/8x", "prefix length"));
    CHECK(cidr_bad("10.0.0.1/8", "host bits set below /8 (the block is 10.0.0.0/8)"));
    CHECK(cidr_bad("256.0.0.1", "\"256.0.0.1\" is not an IPv4 address"));
    CHECK(cidr_bad("10.0.0", "not an IPv4 address"));
    CHECK(cidr_bad("10.0.0.0.1", "not an IPv4 address"));
    CHECK(cidr_bad("010.0.0.1", "not an IPv4 address")); /* octal to inet_aton */
    CHECK(cidr_bad("10..0.1", "not an IPv4 address"));
    CHECK(cidr_bad(" 10.0.0.1", "not an IPv4 address"));
    CHECK(cidr_bad("", "not an IPv4 address"));
    CHECK(cidr_bad("/0", "not an IPv4 address"));
    CHECK(cidr_bad("host.example", "not an IPv4 address"));
    /* The old parser silently kept the first 63 bytes of an entry. */
    char longer[100];
    memset(longer, ' ', sizeof longer);
    memcpy(longer, "10.0.0.0/8", 10);
    longer[99] = 0;
    CHECK(cidr_bad(longer, "is 99 bytes, longer than any IPv4 CIDR block (18)"));
    CHECK(cidr_bad("255.255.255.255/320", "19 bytes"));

    CHECK(listen_ok("0.0.0.0:502", 0, 502));
    CHECK(listen_ok("*:1502", 0, 1502));
    CHECK(listen_ok("127.0.0.1:65535", 0x7F000001u, 65535));
    CHECK(listen_ok("10.1.2.3:1", 0x0A010203u, 1));
    CHECK(listen_bad("127.0.0.1:99999", "port \"99999\" must be a number 1..65535"));
    CHECK(listen_bad("127.0.0.1:abc", "port \"abc\""));
    CHECK(listen_bad("127.0.0.1:0", "port \"0\""));
    CHECK(listen_bad("127.0.0.1:", "port \"\""));
    CHECK(listen_bad("127.0.0.1:+502", "port"));
    CHECK(listen_bad("127.0.0.1:0502", "port"));
    CHECK(listen_bad("127.0.0.1: 502", "port"));
    CHECK(listen_bad("502", "expected ADDR:PORT"));
    CHECK(listen_bad(":502", "\"\" is not an IPv4 address or *"));
    CHECK(listen_bad("localhost:502", "not an IPv4 address"));
    CHECK(listen_bad("[::]:502", "not an IPv4 address"));
    CHECK(listen_bad("1.2.3.4:5:6", "not an IPv4 address"));
    return ow_test_done("netparse");
}
