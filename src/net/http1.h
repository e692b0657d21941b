/* http1.h - the client side of HTTP/1.1 that cotenant needs: parse a
 * response from a byte buffer, and a blocking request with a deadline.
 *
 * The parser is pure (no I/O) and incremental: call it on what has arrived so
 * far and it says whether a whole response is there. Bodies are framed by
 * Content-Length; a response with neither Content-Length nor a status that
 * has no body is framed by the connection closing. Chunked bodies are
 * refused with a clear error. Used by the load generator on its event loop
 * and by cotenant to probe a server's readiness. */
#ifndef COTENANT_HTTP1_H
#define COTENANT_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEADER_BYTES (64 * 1024)

typedef struct {
    int status;
    size_t header_bytes;  /* through the blank line */
    long long content_length; /* -1: to the connection's close */
    long long inference_header_length; /* KServe's Inference-Header-Content-Length, or -1 */
    int close;            /* the server will close the connection after it */
} http1_response;

typedef enum { HTTP1_MORE = 0, HTTP1_DONE = 1, HTTP1_BAD = -1 } http1_result;

/* On HTTP1_DONE, *total is the whole response's length in buf (headers and
 * body). eof: the peer has closed, which ends a body without a length. On
 * HTTP1_BAD, why says what is wrong. */
http1_result http1_parse_response(const char *buf, size_t len, int eof, http1_response *r, size_t *total,
                                  const char **why);

/* One request on a fresh connection to host:port (IPv4 or "localhost"),
 * waiting at most timeout_ms in all. Returns the status (and the body,
 * malloc'd, NUL-ended, when body is not NULL), or -1 with why set. */
int http1_request(const char *host, int port, const char *method, const char *path, const char *content_type,
                  const void *send_body, size_t send_len, int timeout_ms, char **body, size_t *body_len, char *why,
                  size_t whycap);

/* "http://HOST:PORT[/...]" or "HOST:PORT" -> host and port; -1 if malformed. */
int http1_parse_url(const char *url, char *host, size_t hostcap, int *port);

#endif
