/* http1.h - the client side of HTTP/1.1 that cotenant needs: parse a
 * response from a byte buffer, and a blocking request with a deadline.
 *
 * The parser is pure (no I/O) and incremental: call it on what has arrived so
 * far and it says whether a whole response is there. Bodies are framed by
 * Content-Length or chunked; a response with neither, and a status that has
 * a body, is framed by the connection closing. Used by the load generator on its event loop
 * and by cotenant to probe a server's readiness. */
#ifndef COTENANT_HTTP1_H
#define COTENANT_HTTP1_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTP1_MAX_HEADER_BYTES (64 * 1024)

typedef struct {
    int status;
    size_t header_bytes;  /* through the blank line */
    long long content_length; /* -1: to the connection's close */
    long long inference_header_length; /* KServe's Inference-Header-Content-Length, or -1 */
    int close;            /* the server will close the connection after it */
    int chunked;          /* Transfer-Encoding: chunked (the body as sent, chunk sizes and all) */
} http1_response;

typedef enum { HTTP1_MORE = 0, HTTP1_DONE = 1, HTTP1_BAD = -1 } http1_result;

/* On HTTP1_DONE, *total is the whole response's length in buf (headers and
 * body). eof: the peer has closed, which ends a body without a length. On
 * HTTP1_BAD, why says what is wrong. */
http1_result http1_parse_response(const char *buf, size_t len, int eof, http1_response *r, size_t *total,
                                  const char **why);

/* One request on a fresh connection to host:port (a name, an IPv4 or an
 * IPv6 literal; each of its addresses tried in turn), waiting at most
 * timeout_ms in all. Returns the status (and the body, malloc'd, NUL-ended,
 * chunked bodies decoded, when body is not NULL), or -1 with why set. */
int http1_request(const char *host, int port, const char *method, const char *path, const char *content_type,
                  const void *send_body, size_t send_len, int timeout_ms, char **body, size_t *body_len, char *why,
                  size_t whycap);

/* A chunked body (as sent) decoded in place; its new length. */
size_t http1_dechunk(char *body, size_t len);

/* Where a server is: "http://HOST[:PORT][/PREFIX]" or "HOST[:PORT]", HOST a
 * name, an IPv4 address or an IPv6 one in brackets; PORT 80 by default. */
typedef struct {
    char host[256];      /* without brackets */
    int port;
    char prefix[256];    /* "" or "/gateway/x": put before every path */
    char authority[300]; /* the Host header's value: "[::1]:8000" */
} http1_url;

/* 0, or -1 if malformed (https and other schemes included). */
int http1_parse_url(const char *url, http1_url *u);

typedef struct {
    struct sockaddr_storage sa;
    socklen_t len;
} http1_addr;

/* host's addresses for port, in getaddrinfo's order, at most max: their
 * count, or -1 with why set. */
int http1_resolve(const char *host, int port, http1_addr *out, int max, char *why, size_t whycap);
/* The first of host's addresses that takes a connection within timeout_ms
 * into *chosen: 0, or -1 with why set. */
int http1_connectable(const char *host, int port, int timeout_ms, http1_addr *chosen, char *why, size_t whycap);

#endif
