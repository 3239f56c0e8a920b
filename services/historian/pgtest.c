/* See pgtest.h. */
#include "pgtest.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DAY_US (86400 * 1000000LL)

static const char *pg_name = "pgtest";
static char pg_dir[128];
static int pg_port;
static int pg_running;
static char conninfo[512];
static PGconn *chk; /* the test's own connection, for looking at the tables */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int server_start(void)
{
    char cmd[512], path[256];
    snprintf(cmd, sizeof cmd, "bash scripts/pg.sh start %s %d > %s/conninfo", pg_dir, pg_port,
             pg_dir);
    if (system(cmd) != 0) return -1;
    pg_running = 1;
    snprintf(path, sizeof path, "%s/conninfo", pg_dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fgets(conninfo, sizeof conninfo, f) != NULL;
    fclose(f);
    conninfo[strcspn(conninfo, "\n")] = '\0';
    return ok ? 0 : -1;
}

static void server_stop(void)
{
    char cmd[256];
    if (!pg_running) return;
    snprintf(cmd, sizeof cmd, "bash scripts/pg.sh stop %s", pg_dir);
    if (system(cmd) != 0) fprintf(stderr, "%s: stopping the cluster failed\n", pg_name);
    pg_running = 0;
}

static void cleanup(void)
{
    char cmd[256];
    pgt_stop();
    if (pg_dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", pg_dir);
        if (system(cmd) != 0) fprintf(stderr, "%s: could not remove %s\n", pg_name, pg_dir);
    }
}

static int connect_chk(void)
{
    chk = PQconnectdb(conninfo);
    if (PQstatus(chk) == CONNECTION_OK) return 0;
    fprintf(stderr, "%s: %s", pg_name, PQerrorMessage(chk));
    return -1;
}

const char *pgt_start(const char *name)
{
    pg_name = name;
    snprintf(pg_dir, sizeof pg_dir, "/tmp/ow-%s-XXXXXX", name);
    if (!mkdtemp(pg_dir)) {
        perror("mkdtemp");
        pg_dir[0] = '\0';
        return NULL;
    }
    atexit(cleanup);
    pg_port = free_port();
    if (pg_port < 0 || server_start() < 0) {
        fprintf(stderr, "%s: could not start PostgreSQL (scripts/pg.sh)\n", name);
        return NULL;
    }
    return connect_chk() == 0 ? conninfo : NULL;
}

ow_db_t *pgt_start_db(const char *name)
{
    char err[512];
    const char *ci = pgt_start(name);
    ow_db_t *db = ci ? ow_db_connect(ci, err, sizeof err) : NULL;
    if (ci && !db) fprintf(stderr, "%s: %s\n", name, err);
    return db;
}

void pgt_stop(void)
{
    if (chk) PQfinish(chk);
    chk = NULL;
    server_stop();
}

int pgt_restart(void)
{
    return server_start() == 0 && connect_chk() == 0 ? 0 : -1;
}

const char *pgt_conninfo(void)
{
    return conninfo;
}

static char qbuf[256];

static const char *query(const char *sql)
{
    PGresult *res = PQexec(chk, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        snprintf(qbuf, sizeof qbuf, "ERR: %s", PQresultErrorMessage(res));
    else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
        snprintf(qbuf, sizeof qbuf, "NULL");
    else
        snprintf(qbuf, sizeof qbuf, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return qbuf;
}

const char *pgt_q(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return query(sql);
}

long long pgt_qi(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    const char *v = query(sql);
    if (strncmp(v, "ERR", 3) == 0) {
        fprintf(stderr, "%s: %s\n", sql, v);
        return -1;
    }
    return strtoll(v, NULL, 10);
}

double pgt_qd(const char *sql)
{
    const char *v = query(sql);
    return strcmp(v, "NULL") == 0 ? NAN : strtod(v, NULL);
}

long long pgt_count(const char *table)
{
    return pgt_qi("SELECT count(*) FROM %s", table);
}

void pgt_site(ow_gateway_cfg_t gws[2], ow_site_t *site)
{
    memset(gws, 0, 2 * sizeof *gws);
    snprintf(gws[0].id, sizeof gws[0].id, "wm1");
    snprintf(gws[0].name, sizeof gws[0].name, "Webmanager 1");
    gws[0].module_type = ow_module_type_find("C20");
    snprintf(gws[0].battery.manufacturer, sizeof gws[0].battery.manufacturer, "ACME");
    snprintf(gws[0].battery.type, sizeof gws[0].battery.type, "VRLA 12V");
    gws[0].battery.capacity_ah = 100;
    snprintf(gws[0].battery.installed, sizeof gws[0].battery.installed, "2024-03-01");
    gws[0].battery.installed_us = 19783 * DAY_US;
    snprintf(gws[0].battery.location, sizeof gws[0].battery.location, "Room 'B'");
    gws[0].nstrings = 2;
    gws[0].strings[0] = (ow_string_cfg_t){"String A", 3, 1};
    gws[0].strings[1] = (ow_string_cfg_t){"String B", 2, 4};
    gws[0].nmodules = 5;
    snprintf(gws[1].id, sizeof gws[1].id, "wm2");
    gws[1].module_type = ow_module_type_find("C40");
    gws[1].nstrings = 1;
    gws[1].strings[0] = (ow_string_cfg_t){"", 2, 1};
    gws[1].nmodules = 2;
    *site = (ow_site_t){.ngateways = 2, .gateways = gws};
}
