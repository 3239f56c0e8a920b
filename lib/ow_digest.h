/* SHA-256 as lowercase hex, for what must be recognised byte for byte: a
 * backup's members (cli/backup.c) and the site file a restore expects
 * alarmd to run from (alarmd's `reload`). libsodium's, which libzmq's
 * CURVE already brings. */
#ifndef OW_DIGEST_H
#define OW_DIGEST_H

#include <stddef.h>

#define OW_SHA256_HEX 65 /* 64 digits and the NUL */

/* hex of data; 0, or -1 (libsodium would not start: hex is all '0', which
 * no real digest is, so a comparison fails rather than passes). */
int ow_sha256_hex(const void *data, size_t len, char hex[OW_SHA256_HEX]);

#endif
