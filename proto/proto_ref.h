/* Test-only (library owproto_ref, proto_ref.c): the jansson-based decoder that ow_decode's scanner
 * replaced, kept as the reference that proto_test, proto_fuzz and bench/decode_rate.c hold
 * ow_decode to (same results, same error categories). Same contract as
 * ow_decode; services use ow_decode. */
#ifndef OW_PROTO_REF_H
#define OW_PROTO_REF_H

#include "ow_proto.h"

ow_proto_err_t ow_decode_ref(const char *topic, size_t topic_len, const char *body, size_t body_len,
                             ow_msg_t *m, char *err, size_t errlen, ow_proto_stats_t *stats);

#endif
