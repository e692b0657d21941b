#include "telemetry/telemetry_csv.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

const char *const telemetry_csv_names[TCOL_COUNT] = {
#define TELEMETRY_CSV_NAME(id, name, unit) name,
    TELEMETRY_CSV_COLUMNS(TELEMETRY_CSV_NAME)
#undef TELEMETRY_CSV_NAME
};

const char *const telemetry_csv_units[TCOL_COUNT] = {
#define TELEMETRY_CSV_UNIT(id, name, unit) unit,
    TELEMETRY_CSV_COLUMNS(TELEMETRY_CSV_UNIT)
#undef TELEMETRY_CSV_UNIT
};

static char header[TCOL_COUNT * 32], key_prefix[64];
static pthread_once_t header_once = PTHREAD_ONCE_INIT;

static void build_header(void)
{
    size_t n = 0;
    for (int c = 0; c < TCOL_COUNT; c++) {
        const char *unit = telemetry_csv_units[c];
        n += (size_t)snprintf(header + n, sizeof header - n, "%s%s%s%s%s", c ? "," : "", telemetry_csv_names[c],
                              *unit ? " [" : "", unit, *unit ? "]" : "");
        if (c == TCOL_RECORD) snprintf(key_prefix, sizeof key_prefix, "%s,", header);
    }
}

const char *telemetry_csv_header(void)
{
    pthread_once(&header_once, build_header);
    return header;
}

const char *telemetry_csv_key_prefix(void)
{
    pthread_once(&header_once, build_header);
    return key_prefix;
}

int telemetry_csv_header_names(const char *field, telemetry_csv_col c)
{
    const char *name = telemetry_csv_names[c], *unit = telemetry_csv_units[c];
    size_t n = strlen(name), u = strlen(unit);
    if (strncmp(field, name, n)) return 0;
    if (!field[n]) return 1;
    return u && !strncmp(field + n, " [", 2) && !strncmp(field + n + 2, unit, u) && !strcmp(field + n + 2 + u, "]");
}

void telemetry_csv_row_init(telemetry_csv_row *r)
{
    for (int c = 0; c < TCOL_COUNT; c++) r->field[c] = "";
}

void telemetry_csv_row_num(telemetry_csv_row *r, telemetry_csv_col c, double v, int decimals)
{
    if (!isfinite(v)) {
        r->field[c] = "";
        return;
    }
    snprintf(r->num[c], sizeof r->num[c], "%.*f", decimals, v);
    r->field[c] = r->num[c];
}

void telemetry_csv_row_int(telemetry_csv_row *r, telemetry_csv_col c, long long v)
{
    snprintf(r->num[c], sizeof r->num[c], "%lld", v);
    r->field[c] = r->num[c];
}

void telemetry_csv_row_text(telemetry_csv_row *r, telemetry_csv_col c, const char *s)
{
    r->field[c] = s ? s : "";
}

static void write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\r' || *s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

void telemetry_csv_row_write(FILE *f, const telemetry_csv_row *r)
{
    for (int c = 0; c < TCOL_COUNT; c++) {
        if (c) fputc(',', f);
        write_field(f, r->field[c]);
    }
    fputc('\n', f);
}
