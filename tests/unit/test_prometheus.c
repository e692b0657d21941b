/* The Prometheus endpoint: the exposition text checked line by line against
 * the text format's rules, and the HTTP server over a real socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "telemetry/prom_format.h"
#include "telemetry/prom_server.h"

static void samples(gpu_sample s[2])
{
    for (int i = 0; i < 2; i++) {
        gpu_sample_clear(&s[i]);
        s[i].index = i;
        s[i].util_gpu = 50 + i;
        s[i].mem_used_mib = 1024;
        s[i].mem_total_mib = 81559;
        s[i].power_w = 312.25;
        s[i].energy_j = 123456.789;
        s[i].sm_active = 40.5;
    }
    s[1].power_w = NAN; /* not available: left out */
    s[0].nmig = 1;
    s[0].mig[0] = (gpu_mig_sample){.gpu_instance_id = 3, .profile = "3g.40gb", .mem_used_mib = 100, .mem_total_mib = 9984, .sm_active = 12};
    s[0].nprocs = 1;
    s[0].procs[0] = (gpu_proc_sample){.pid = 42, .mem_used_mib = 900, .sm_util = 70, .mem_util = NAN, .gpu_instance_id = -1};
    strcpy(s[0].procs[0].name, "we\"ird\\na\nme");
}

static bool metric_name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':')) return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':')) return false;
    return true;
}

/* Checks one sample line's label set: name="value" pairs, escapes only
 * \\, \" and \n; returns a pointer past the closing brace, or NULL. */
static const char *labels_ok(const char *p)
{
    if (*p != '{') return NULL;
    p++;
    while (*p != '}') {
        const char *n = p;
        while (isalnum((unsigned char)*p) || *p == '_') p++;
        if (p == n || isdigit((unsigned char)*n) || *p != '=' || p[1] != '"') return NULL;
        for (p += 2; *p != '"'; p++) {
            if (!*p || *p == '\n') return NULL;
            if (*p == '\\' && !strchr("\\\"n", *++p)) return NULL;
        }
        p++;
        if (*p == ',') p++;
        else if (*p != '}') return NULL;
    }
    return p + 1;
}

/* Validates the text as the exposition format; fills the names seen. */
static void validate(const char *text)
{
    char typed[64][96] = {{0}};
    int ntyped = 0;
    char last_name[96] = "", done[64][96] = {{0}};
    int ndone = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (!eol) fail_msg("the text does not end with a newline");
        size_t len = (size_t)(eol - p);
        char line[1024];
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = 0;
        if (!strncmp(line, "# TYPE ", 7)) {
            char name[96], type[32];
            assert_int_equal(sscanf(line + 7, "%95s %31s", name, type), 2);
            assert_true(!strcmp(type, "gauge") || !strcmp(type, "counter"));
            for (int i = 0; i < ntyped; i++)
                if (!strcmp(typed[i], name)) fail_msg("TYPE given twice for %s", name);
            strcpy(typed[ntyped++], name);
        } else if (!strncmp(line, "# HELP ", 7)) {
            assert_true(metric_name_ok(line + 7, strcspn(line + 7, " ")));
        } else {
            size_t n = strcspn(line, "{ ");
            if (!metric_name_ok(line, n)) fail_msg("bad metric name in: %s", line);
            char name[96];
            memcpy(name, line, n);
            name[n] = 0;
            bool has_type = false;
            for (int i = 0; i < ntyped; i++) has_type |= !strcmp(typed[i], name);
            if (!has_type) fail_msg("sample before its TYPE: %s", line);
            /* a family's samples come together */
            if (strcmp(name, last_name)) {
                for (int i = 0; i < ndone; i++)
                    if (!strcmp(done[i], name)) fail_msg("samples of %s are not together", name);
                if (last_name[0]) strcpy(done[ndone++], last_name);
                strcpy(last_name, name);
            }
            const char *v = labels_ok(line + n);
            if (!v || *v != ' ') fail_msg("bad labels in: %s", line);
            char *end;
            strtod(v + 1, &end);
            if (end == v + 1 || *end) fail_msg("bad value in: %s", line);
        }
        p = eol + 1;
    }
}

static const char *find_line(const char *text, const char *start)
{
    const char *p = strstr(text, start);
    if (!p) fail_msg("no line starting with %s", start);
    return p;
}

static void exposition_text(void **state)
{
    (void)state;
    gpu_sample s[2];
    samples(s);
    prom_gpu_label l[2] = {{"NVIDIA H100 80GB HBM3", "GPU-aaaa", "00000000:18:00.0"},
                           {"NVIDIA H100 80GB HBM3", "GPU-bbbb", "00000000:19:00.0"}};
    prom_node_label node = {"node-1", "580.95.05"};
    size_t len = 0;
    char *t = prom_format(s, l, 2, &node, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    validate(t);
    const char *lab0 = "{gpu=\"0\",UUID=\"GPU-aaaa\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\",modelName=\"NVIDIA H100 "
                       "80GB HBM3\",hostname=\"node-1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\"}";
    char want[512];
    snprintf(want, sizeof want, "DCGM_FI_DEV_GPU_UTIL%s 50\n", lab0);
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof want, "DCGM_FI_PROF_SM_ACTIVE%s 0.405", lab0); /* percent to ratio */
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof want, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION%s 123456789\n", lab0); /* J to mJ */
    assert_non_null(strstr(t, want));
    assert_non_null(find_line(t, "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"));
    /* GPU 1's power is not available: no line, not a 0 */
    assert_null(strstr(t, "DCGM_FI_DEV_POWER_USAGE{gpu=\"1\""));
    assert_non_null(strstr(t, "DCGM_FI_DEV_POWER_USAGE{gpu=\"0\""));
    /* MIG instances carry GPU_I_ID on the GPU-wide names */
    assert_non_null(strstr(t, "modelName=\"NVIDIA H100 80GB HBM3\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"3\",hostname=\"node-1\","
                              "DCGM_FI_DRIVER_VERSION=\"580.95.05\"} 100\n"));
    /* process names are escaped */
    assert_non_null(strstr(t, "pid=\"42\",process=\"we\\\"ird\\\\na\\nme\"} 900\n"));
    assert_null(strstr(t, "cotenant_process_mem_util{"));
    free(t);
}

static void routes_and_addresses(void **state)
{
    (void)state;
    assert_int_equal(prom_route_of("GET", "/metrics"), ROUTE_METRICS);
    assert_int_equal(prom_route_of("GET", "/"), ROUTE_INDEX);
    assert_int_equal(prom_route_of("GET", "/metrics/"), ROUTE_NOT_FOUND);
    assert_int_equal(prom_route_of("GET", "/../etc/passwd"), ROUTE_NOT_FOUND);
    assert_int_equal(prom_route_of("POST", "/metrics"), ROUTE_BAD_METHOD);
    assert_int_equal(prom_route_of("HEAD", "/metrics"), ROUTE_BAD_METHOD);
    unsigned a;
    int port;
    cot_err err;
    assert_int_equal(prom_parse_listen("9400", &a, &port, &err), 0);
    assert_true(a == 0x7f000001 && port == 9400);
    assert_int_equal(prom_parse_listen("0.0.0.0:9401", &a, &port, &err), 0);
    assert_true(a == 0 && port == 9401);
    assert_int_equal(prom_parse_listen("localhost:1", &a, &port, &err), 0);
    assert_true(a == 0x7f000001 && port == 1);
    assert_int_equal(prom_parse_listen("70000", &a, &port, &err), -1);
    assert_non_null(strstr(err.msg, "0 to 65535"));
    assert_int_equal(prom_parse_listen("1.2.3:80", &a, &port, &err), -1);
    assert_non_null(strstr(err.msg, "not an IPv4 address"));
    assert_int_equal(prom_parse_listen(":80", &a, &port, &err), -1);
    assert_int_equal(prom_parse_listen("abc", &a, &port, &err), -1);
}

static char *render(void *ctx, size_t *len)
{
    (void)ctx;
    gpu_sample s[2];
    samples(s);
    prom_gpu_label l[2] = {{"GPU", "GPU-aaaa", ""}, {"GPU", "GPU-bbbb", ""}};
    prom_node_label node = {"h", NULL};
    return prom_format(s, l, 2, &node, len);
}

/* Sends raw bytes to the server; returns the whole answer. */
static char *exchange(int port, const char *req, size_t reqlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t off = 0;
    while (off < reqlen) {
        ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
        if (w <= 0) break; /* the server may close early on an oversized request */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0) break;
        n += (size_t)r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    close(fd);
    return buf;
}

static void serves_over_http(void **state)
{
    (void)state;
    cot_err err;
    prom_server *s = prom_server_start("127.0.0.1:0", render, NULL, &err);
    if (!s) fail_msg("%s", err.msg);
    int port = prom_server_port(s);
    assert_true(port > 0);
    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *r = exchange(port, get, strlen(get));
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    const char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    validate(body + 4);
    free(r);
    const char *nf = "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    r = exchange(port, nf, strlen(nf));
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);
    const char *post = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    r = exchange(port, post, strlen(post));
    assert_non_null(strstr(r, "HTTP/1.1 405"));
    assert_non_null(strstr(r, "Allow: GET"));
    free(r);
    /* a request bigger than the limit is refused, and the server lives on */
    size_t big = 64 * 1024;
    char *huge = malloc(big + 64);
    int n = snprintf(huge, 64, "GET /metrics HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', big);
    memcpy(huge + n + big, "\r\n\r\n", 5);
    r = exchange(port, huge, strlen(huge));
    assert_null(strstr(r, "HTTP/1.1 200"));
    free(r);
    free(huge);
    r = exchange(port, get, strlen(get));
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    free(r);
    prom_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(exposition_text), cmocka_unit_test(routes_and_addresses),
                                       cmocka_unit_test(serves_over_http)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
