/* ow_auth: keys as keygen writes them, roles, and real CURVE connections
 * in one process: an allow-listed key is admitted with its name and roles,
 * an unknown key, a plain client and a client expecting another server key
 * never deliver a message, and each refusal is counted. */
#include <czmq.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ow_auth.h"
#include "ow_test.h"

/* A DEALER to ep: CURVE with (pub, sec) expecting server key spub, or
 * plain when pub is NULL. Sends one frame; returns the socket. */
static zsock_t *dealer(const char *ep, const char *pub, const char *sec, const char *spub)
{
    zsock_t *d = zsock_new(ZMQ_DEALER);
    if (pub) {
        zsock_set_curve_publickey(d, pub);
        zsock_set_curve_secretkey(d, sec);
        zsock_set_curve_serverkey(d, spub);
    }
    zsock_set_linger(d, 0);
    zsock_connect(d, "%s", ep);
    zstr_send(d, "hello");
    return d;
}

static char *received(zsock_t *router, ow_peer_t *peer, int timeout_ms)
{
    zsock_set_rcvtimeo(router, timeout_ms);
    zmsg_t *m = zmsg_recv(router);
    if (!m) return NULL;
    zframe_t *id = zmsg_pop(m), *body = zmsg_pop(m);
    ow_auth_peer(body, peer);
    char *s = zframe_strdup(body);
    zframe_destroy(&id);
    zframe_destroy(&body);
    zmsg_destroy(&m);
    return s;
}

int main(void)
{
    char dir[] = "/tmp/ow-auth-test-XXXXXX", err[512], buf[64], path[600];
    unsigned roles;
    CHECK(mkdtemp(dir) != NULL);

    /* roles: parse and print back, unknown ones named */
    CHECK(ow_auth_roles_parse("read, operate,breaker", &roles, err, sizeof err) == 0 &&
          roles == (OW_ROLE_READ | OW_ROLE_OPERATE | OW_ROLE_BREAKER));
    ow_auth_roles_format(roles, buf, sizeof buf);
    CHECK(strcmp(buf, "read,operate,breaker") == 0);
    CHECK(ow_auth_roles_parse("read,admin", &roles, err, sizeof err) == -1 &&
          strstr(err, "'admin'"));

    /* keygen: public 0644 with roles, secret 0640 in private/, names checked */
    CHECK(ow_auth_keygen(dir, "alarmd", OW_ROLE_READ, 0, err, sizeof err) == 0);
    CHECK(ow_auth_keygen(dir, "ops", OW_ROLE_OPERATE, 0, err, sizeof err) == 0);
    CHECK(ow_auth_keygen(dir, "../evil", OW_ROLE_ALL, 0, err, sizeof err) == -1);
    struct stat st;
    snprintf(path, sizeof path, "%s/private/ops.key_secret", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    snprintf(path, sizeof path, "%s/ops.key", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    zconfig_t *c = zconfig_load(path);
    CHECK(c && strcmp(zconfig_get(c, "metadata/roles", ""), "read,operate") == 0 &&
          zconfig_get(c, "curve/secret-key", NULL) == NULL); /* no secret in a public key */
    char ops_pub[41], ops_sec[41];
    snprintf(ops_pub, sizeof ops_pub, "%s", c ? zconfig_get(c, "curve/public-key", "") : "");
    zconfig_destroy(&c);
    snprintf(path, sizeof path, "%s/private/ops.key_secret", dir);
    c = zconfig_load(path);
    snprintf(ops_sec, sizeof ops_sec, "%s", c ? zconfig_get(c, "curve/secret-key", "") : "");
    zconfig_destroy(&c);
    snprintf(path, sizeof path, "%s/alarmd.key", dir);
    c = zconfig_load(path);
    char srv_pub[41];
    snprintf(srv_pub, sizeof srv_pub, "%s", c ? zconfig_get(c, "curve/public-key", "") : "");
    zconfig_destroy(&c);

    /* a secret readable by anyone is refused */
    ow_security_cfg_t cfg = {1, ""};
    snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s", dir);
    snprintf(path, sizeof path, "%s/private/alarmd.key_secret", dir);
    chmod(path, 0644);
    CHECK(ow_auth_init(NULL, &cfg, "alarmd", err, sizeof err) == -1 && strstr(err, "chmod 0640"));
    chmod(path, 0640);
    CHECK(ow_auth_init(NULL, &cfg, "nobody", err, sizeof err) == -1 && strstr(err, "no such key"));
    CHECK(ow_auth_init(NULL, &cfg, "alarmd", err, sizeof err) == 0 && ow_auth_curve());

    /* a CURVE server; the operator's key gets its name and roles */
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    CHECK(ow_auth_server(router, "test", err, sizeof err) == 0);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    CHECK(port > 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    ow_peer_t peer;
    zsock_t *ok = dealer(ep, ops_pub, ops_sec, srv_pub);
    char *got = received(router, &peer, 3000);
    CHECK(got && strcmp(got, "hello") == 0);
    CHECK(strcmp(peer.who, "ops") == 0 && peer.roles == (OW_ROLE_READ | OW_ROLE_OPERATE));
    zstr_free(&got);

    /* ow_auth_client_of: this process's own key, admitted as "alarmd" */
    zsock_t *self = zsock_new(ZMQ_DEALER);
    CHECK(ow_auth_client_of(self, "alarmd", err, sizeof err) == 0);
    zsock_connect(self, "%s", ep);
    zstr_send(self, "me");
    got = received(router, &peer, 3000);
    CHECK(got && strcmp(peer.who, "alarmd") == 0 && peer.roles == OW_ROLE_READ);
    zstr_free(&got);
    CHECK(ow_auth_client_of(self, "nope", err, sizeof err) == -1); /* no such server key */

    /* an unknown key, no key at all, a client expecting another server: nothing */
    char upub[41], usec[41];
    zmq_curve_keypair(upub, usec);
    zsock_t *unknown = dealer(ep, upub, usec, srv_pub);
    zsock_t *plain = dealer(ep, NULL, NULL, NULL);
    zsock_t *wrong = dealer(ep, ops_pub, ops_sec, upub);
    got = received(router, &peer, 1500);
    CHECK(got == NULL);
    zstr_free(&got);
    const ow_auth_stats_t *s = ow_auth_stats();
    CHECK_MSG(s->accepted == 2 && s->refused >= 1 && s->handshake_fail >= 1,
              "accepted %llu refused %llu handshake_fail %llu", (unsigned long long)s->accepted,
              (unsigned long long)s->refused, (unsigned long long)s->handshake_fail);

    /* the allow-list is the directory: a key removed is refused next time */
    snprintf(path, sizeof path, "%s/ops.key", dir);
    sleep(1); /* the directory's mtime has a one-second grain on some filesystems */
    CHECK(unlink(path) == 0);
    zsock_t *gone = dealer(ep, ops_pub, ops_sec, srv_pub);
    got = received(router, &peer, 1500);
    CHECK(got == NULL);
    zstr_free(&got);

    zsock_destroy(&gone);
    zsock_destroy(&wrong);
    zsock_destroy(&plain);
    zsock_destroy(&unknown);
    zsock_destroy(&self);
    zsock_destroy(&ok);
    zsock_destroy(&router);
    ow_auth_shutdown();

    /* plain links: the peer is its address, with every role */
    cfg.curve = 0;
    CHECK(ow_auth_init(NULL, &cfg, "alarmd", err, sizeof err) == 0 && !ow_auth_curve());
    router = zsock_new(ZMQ_ROUTER);
    port = zsock_bind(router, "tcp://127.0.0.1:*");
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    plain = dealer(ep, NULL, NULL, NULL);
    got = received(router, &peer, 3000);
    CHECK(got && strcmp(peer.who, "plain:127.0.0.1") == 0 && peer.roles == OW_ROLE_ALL);
    zstr_free(&got);
    zsock_destroy(&plain);
    zsock_destroy(&router);
    ow_auth_shutdown();
    zsys_shutdown();
    return ow_test_done("auth");
}
