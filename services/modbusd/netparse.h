/* Strict parsing of the two network settings of services.modbusd: the
 * client allow-list (IPv4 addresses and CIDR blocks) and the listen address.
 * Both used to be parsed leniently (a copy cut to 63 bytes, atoi on the
 * port), so a malformed entry could widen the allow-list or bind a random
 * port; here anything but the exact syntax is an error naming the text. */
#ifndef OW_NETPARSE_H
#define OW_NETPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Longest accepted allow entry: "255.255.255.255/32". */
#define OW_CIDR_MAX 18

/* "A.B.C.D" (a /32) or "A.B.C.D/N", N 0..32, decimal octets 0..255 without
 * leading zeros, no host bits set below the prefix. net and mask in host
 * order. 0, or -1 with err saying what is wrong. */
int ow_parse_cidr(const char *s, uint32_t *net, uint32_t *mask, char *err, size_t errlen);

/* "A.B.C.D:PORT" or "*:PORT" (every address), PORT decimal 1..65535.
 * addr in host order. 0, or -1 with err. */
int ow_parse_listen(const char *s, uint32_t *addr, uint16_t *port, char *err, size_t errlen);

#endif
