/* ow_sha256_hex against FIPS 180-2's examples. */
#include <stdlib.h>
#include <string.h>

#include "ow_digest.h"
#include "ow_test.h"

int main(void)
{
    char hex[OW_SHA256_HEX];
    CHECK(ow_sha256_hex("abc", 3, hex) == 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(ow_sha256_hex("", 0, hex) == 0);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(ow_sha256_hex(two, strlen(two), hex) == 0);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a' */
    char *m = malloc(1000000);
    memset(m, 'a', 1000000);
    CHECK(ow_sha256_hex(m, 1000000, hex) == 0);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
    return ow_test_done("digest_test");
}
