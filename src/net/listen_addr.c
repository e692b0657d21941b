#include "listen_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_parse_listen(const char *flag, const char *text, uint32_t *addr_be, int *port, char *err, size_t errcap)
{
    const char *colon = strrchr(text, ':');
    const char *p = colon ? colon + 1 : text;
    char host[64] = "127.0.0.1";
    if (colon) {
        size_t n = (size_t)(colon - text);
        if (n == 0 || n >= sizeof host) {
            snprintf(err, errcap, "%s '%s': expected [ADDR:]PORT", flag, text);
            return -1;
        }
        memcpy(host, text, n);
        host[n] = 0;
        if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || *end || v < 0 || v > 65535) {
        snprintf(err, errcap, "%s '%s': the port must be a number from 0 to 65535", flag, text);
        return -1;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1) {
        snprintf(err, errcap, "%s '%s': '%s' is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)", flag, text, host);
        return -1;
    }
    *addr_be = a.s_addr;
    *port = (int)v;
    return 0;
}
