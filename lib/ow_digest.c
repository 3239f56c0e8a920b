/* SHA-256 hex (ow_digest.h). */
#include "ow_digest.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int ow_sha256_hex(const void *data, size_t len, char hex[OW_SHA256_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    /* sodium_init is idempotent and thread-safe; it picks the fastest code */
    if (sodium_init() < 0) {
        memset(hex, '0', OW_SHA256_HEX - 1);
        hex[OW_SHA256_HEX - 1] = '\0';
        return -1;
    }
    crypto_hash_sha256(h, data, len);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return 0;
}
