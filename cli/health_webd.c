/* `ohmwatch health webd`: an HTTPS GET of /api/health as a browser would
 * make it, the certificate verified against services.webd.cert_file (the
 * pair make-secrets.sh made, or the site CA's certificate in that file): a
 * webd serving another certificate, or plain HTTP where TLS is configured,
 * is unhealthy. Then each gateway: its busd heard by webd's live model
 * within max_age. GnuTLS directly, the library libmicrohttpd serves with. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "health.h"
#include "webd.h"

#define IO_TIMEOUT_MS 3000
#define REPLY_MAX     (256u << 10)

static int tcp_connect(uint32_t addr, uint16_t port, char *err, size_t errlen)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errlen, "cannot connect: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* The reply to one GET over TLS (verified) or plain TCP: malloc'd, or
 * NULL with err. */
static char *get(const ow_webd_cfg_t *c, uint32_t addr, const char *path, size_t *len, char *err,
                 size_t errlen)
{
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             path);
    int fd = tcp_connect(addr, c->listen_port, err, errlen);
    if (fd < 0) return NULL;
    gnutls_session_t s = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    char *buf = NULL;
    size_t n = 0;
    int rc;
    if (c->tls) {
        if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
            (rc = gnutls_certificate_set_x509_trust_file(cred, c->cert_file,
                                                         GNUTLS_X509_FMT_PEM)) <= 0) {
            snprintf(err, errlen, "cannot read the certificate %s to verify with%s", c->cert_file,
                     cred ? "" : " (out of memory)");
            goto out;
        }
        gnutls_init(&s, GNUTLS_CLIENT);
        gnutls_set_default_priority(s);
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
        /* The chain must end at the configured certificate; the name is not
         * checked: the probe reaches webd on an address, not its DNS name. */
        gnutls_session_set_verify_cert(s, NULL, 0);
        gnutls_transport_set_int(s, fd);
        gnutls_handshake_set_timeout(s, IO_TIMEOUT_MS);
        do
            rc = gnutls_handshake(s);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        if (rc < 0) {
            if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
                gnutls_datum_t why = {0};
                gnutls_certificate_verification_status_print(
                    gnutls_session_get_verify_cert_status(s), GNUTLS_CRT_X509, &why, 0);
                snprintf(err, errlen, "TLS: the certificate webd serves is not %s's: %s",
                         c->cert_file, why.data ? (char *)why.data : "not trusted");
                gnutls_free(why.data);
            } else
                snprintf(err, errlen, "TLS handshake: %s", gnutls_strerror(rc));
            goto out;
        }
        if (gnutls_record_send(s, req, strlen(req)) < 0) {
            snprintf(err, errlen, "TLS send failed");
            goto out;
        }
    } else if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        goto out;
    }
    buf = malloc(REPLY_MAX + 1);
    while (buf && n < REPLY_MAX) {
        ssize_t r =
            s ? gnutls_record_recv(s, buf + n, REPLY_MAX - n) : read(fd, buf + n, REPLY_MAX - n);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) continue;
        if (r <= 0) break; /* end of the reply (Connection: close), or a premature end */
        n += (size_t)r;
    }
    if (buf) buf[n] = '\0';
out:
    if (s) {
        gnutls_bye(s, GNUTLS_SHUT_WR);
        gnutls_deinit(s);
    }
    if (cred) gnutls_certificate_free_credentials(cred);
    close(fd);
    *len = n;
    if (buf && n == 0) {
        snprintf(err, errlen, "no reply");
        free(buf);
        buf = NULL;
    }
    return buf;
}

int ow_health_webd_reply(const char *reply, const ow_webd_cfg_t *cfg, const char *gw,
                         double max_age_s, FILE *out)
{
    int status = 0;
    const char *body = strstr(reply, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1 || status != 200 ||
        !json_is_true(json_object_get(j, "ok"))) {
        fprintf(out, "webd: %s answers /api/health with status %d%s\n", cfg->listen, status,
                j ? "" : " and no JSON");
        json_decref(j);
        return 1;
    }
    int bad = 0, seen = 0;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(j, "gateways"), i, g)
    {
        const char *id = json_string_value(json_object_get(g, "id"));
        if (!id || (gw && strcmp(gw, id) != 0)) continue;
        seen++;
        json_t *heard = json_object_get(g, "heard_s");
        if (!json_is_true(json_object_get(g, "answering")) || !json_is_number(heard)) {
            fprintf(out, "webd %s: serves %s, but shows the gateway as not answering\n", id,
                    cfg->listen);
            bad = 1;
        } else if (json_number_value(heard) > max_age_s) {
            fprintf(out, "webd %s: serves %s, but its newest data is %.0f s old (max %.0f s)\n", id,
                    cfg->listen, json_number_value(heard), max_age_s);
            bad = 1;
        } else
            fprintf(out, "webd %s: healthy, %s on %s, newest data %.1f s old\n", id,
                    cfg->tls ? "HTTPS (certificate verified)" : "plain HTTP", cfg->listen,
                    json_number_value(heard));
    }
    if (!seen) {
        fprintf(out, "webd: %s lists no gateway%s%s\n", cfg->listen, gw ? " " : "", gw ? gw : "");
        bad = 1;
    }
    json_decref(j);
    return bad;
}

int ow_health_webd(const ow_site_t *site, const char *gw, double max_age_s, FILE *out)
{
    static ow_webd_cfg_t cfg; /* paths: off the stack */
    char err[1536];
    if (ow_site_webd(site, &cfg, err, sizeof err) < 0) {
        fprintf(out, "webd: %s\n", err);
        return 1;
    }
    uint32_t addr = cfg.listen_addr ? cfg.listen_addr : 0x7F000001u; /* a wildcard: loopback */
    size_t len = 0;
    char *reply = get(&cfg, addr, "/api/health", &len, err, sizeof err);
    if (!reply) {
        fprintf(out, "webd: %s on %s://%s\n", err, cfg.tls ? "https" : "http", cfg.listen);
        return 1;
    }
    int bad = ow_health_webd_reply(reply, &cfg, gw, max_age_s, out);
    free(reply);
    return bad;
}
