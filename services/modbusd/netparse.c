/* See netparse.h. Hand-written rather than inet_pton + strtol so every
 * rule (length, octet range, leading zeros, prefix, port range) is one
 * visible check with its own message. */
#include "netparse.h"

#include <stdio.h>
#include <string.h>

/* Decimal digits at s[0..n): value, or -1 if empty, not all digits, a
 * leading zero (octal in some parsers: "010" is 8 to inet_aton) or > max. */
static long decimal(const char *s, size_t n, long max)
{
    long v = 0;
    if (n == 0 || (n > 1 && s[0] == '0')) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
        if (v > max) return -1;
    }
    return v;
}

/* Exactly four dot-separated octets filling s[0..n). */
static int ipv4(const char *s, size_t n, uint32_t *out)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        long o = decimal(s + i, j - i, 255);
        if (o < 0 || (part < 3 && j == n) || (part == 3 && j != n)) return -1;
        a = a << 8 | (uint32_t)o;
        i = j + 1;
    }
    *out = a;
    return 0;
}

int ow_parse_cidr(const char *s, uint32_t *net, uint32_t *mask, char *err, size_t errlen)
{
    size_t n = strlen(s);
    if (n > OW_CIDR_MAX) {
        snprintf(err, errlen, "\"%.40s%s\" is %zu bytes, longer than any IPv4 CIDR block (%d)", s,
                 n > 40 ? "..." : "", n, OW_CIDR_MAX);
        return -1;
    }
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : n;
    uint32_t a;
    long bits = 32;
    if (ipv4(s, alen, &a) < 0) {
        snprintf(err, errlen, "\"%s\": \"%.*s\" is not an IPv4 address (A.B.C.D, 0..255 each)", s,
                 (int)alen, s);
        return -1;
    }
    if (slash && (bits = decimal(slash + 1, n - alen - 1, 32)) < 0) {
        snprintf(err, errlen, "\"%s\": prefix length must be 0..32", s);
        return -1;
    }
    uint32_t m = bits ? 0xFFFFFFFFu << (32 - bits) : 0;
    if (a & ~m) {
        snprintf(err, errlen, "\"%s\": host bits set below /%ld (the block is %u.%u.%u.%u/%ld)", s,
                 bits, (a & m) >> 24, (a & m) >> 16 & 255, (a & m) >> 8 & 255, a & m & 255, bits);
        return -1;
    }
    *net = a;
    *mask = m;
    return 0;
}

int ow_parse_listen(const char *s, uint32_t *addr, uint16_t *port, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    if (!colon) {
        snprintf(err, errlen, "\"%.64s\": expected ADDR:PORT (e.g. \"0.0.0.0:502\")", s);
        return -1;
    }
    size_t alen = (size_t)(colon - s);
    uint32_t a = 0;
    if (!(alen == 1 && s[0] == '*') && ipv4(s, alen, &a) < 0) {
        snprintf(err, errlen, "\"%.64s\": \"%.*s\" is not an IPv4 address or *", s,
                 (int)(alen > 40 ? 40 : alen), s);
        return -1;
    }
    long p = decimal(colon + 1, strlen(colon + 1), 65535);
    if (p < 1) {
        snprintf(err, errlen, "\"%.64s\": port \"%.10s\" must be a number 1..65535", s, colon + 1);
        return -1;
    }
    *addr = a;
    *port = (uint16_t)p;
    return 0;
}
