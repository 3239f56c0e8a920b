/* The historian's number, date and text formatting for PostgreSQL: COPY text
 * fields written straight into a buffer (each put returns the end) and
 * NUL-terminated statement parameters. By hand rather than printf: fast on
 * the bulk path, exact for the real (float4) columns, independent of the
 * process locale. Pure functions: no libpq, no allocation. */
#ifndef OW_DBFMT_H
#define OW_DBFMT_H

#include <stddef.h>
#include <stdint.h>

#define OW_DBFMT_DAY_US 86400000000LL

/* The UTC day (days since 1970-01-01) of a timestamp, rounded down. */
int64_t ow_dbfmt_day(int64_t us);

/* Copy a C string of at most srclen bytes as valid UTF-8 into dst (an
 * invalid byte becomes '?'). */
void ow_dbfmt_utf8(char *dst, size_t dstlen, const char *src, size_t srclen);

/* ---- COPY text fields: write at p, return the end (no NUL) ---- */
char *ow_dbfmt_text(char *p, const char *s); /* \\ \t \n \r escaped; 2x the room */
char *ow_dbfmt_u64(char *p, uint64_t v);
char *ow_dbfmt_i64(char *p, int64_t v);
char *ow_dbfmt_date(char *p, int64_t day); /* "2024-05-01" */
char *ow_dbfmt_ts(char *p, int64_t us);    /* "2024-05-01 12:00:00.250000+00" */
char *ow_dbfmt_real(char *p, double x);    /* real column: 9 digits, \N */
char *ow_dbfmt_double(char *p, double x);  /* double column: 17 digits, \N for NAN */

/* What a real column stores for x (0 for a subnormal); 0 returned for NULL
 * (NAN, infinities, beyond the float range). */
int ow_dbfmt_real_of(double x, float *out);

/* ---- statement parameters: a NUL-terminated string (buf or a literal) ---- */
const char *ow_dbfmt_param_double(char *buf, size_t len, double x);      /* NAN is "NaN" */
const char *ow_dbfmt_param_double_null(char *buf, size_t len, double x); /* NAN is NULL */
const char *ow_dbfmt_param_ts(char *buf, int64_t us);                    /* buf of 40 */
const char *ow_dbfmt_param_i64(char *buf, int64_t v);                    /* buf of 24 */

#endif
