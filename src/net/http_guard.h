/* http_guard.h - slow clients cannot lock a libmicrohttpd server out.
 *
 * libmicrohttpd's connection timeout restarts on every byte, and nothing
 * bounds how long a request's headers and body may take: a client sending a
 * byte every few seconds holds a connection for good, and enough of them
 * fill --max-connections (slowloris). The guard watches every connection
 * through MHD_OPTION_NOTIFY_CONNECTION and, from a thread of its own:
 *   - closes a connection whose request has been arriving longer than the
 *     deadline (headers and body together, timed from when the connection
 *     was ready for a request: its start, or the end of its last answer);
 *   - when the connections in use pass max - reserve, closes the oldest of
 *     those still arriving, so that a share is always there for new clients.
 * A request whose headers and body are in is the server's to answer and is
 * never cut. "Close" is shutdown(2) on the socket: libmicrohttpd sees the
 * end of the stream and closes the connection itself. The socket is only
 * touched under the guard's lock, which the connection's close notice also
 * takes, and libmicrohttpd sends that notice before it closes the socket,
 * so a descriptor number is never shut after it was reused. */
#ifndef COTENANT_HTTP_GUARD_H
#define COTENANT_HTTP_GUARD_H

#include <microhttpd.h>

typedef struct http_guard http_guard;

typedef struct {
    double request_deadline_s; /* headers and body of one request, at most */
    unsigned max_connections;  /* as given to MHD_OPTION_CONNECTION_LIMIT */
    unsigned reserve;          /* kept free for new clients; 0: a tenth of max, at least 1 */
} http_guard_opts;

/* NULL when out of memory or the thread cannot start. */
http_guard *http_guard_start(const http_guard_opts *o);
/* Stop the daemon first: its close notices still reach the guard. */
void http_guard_stop(http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION, with the guard as its closure. */
void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
/* From the access handler, once a request's headers and body are all in:
 * its clock stops. From MHD_OPTION_NOTIFY_COMPLETED: the answer is out, and
 * the connection's clock starts again for the next request. */
void http_guard_request_in(http_guard *g, struct MHD_Connection *c);
void http_guard_request_done(http_guard *g, struct MHD_Connection *c);

/* Connections closed for passing the deadline, and to keep the reserve. */
unsigned long long http_guard_closed_slow(const http_guard *g);
unsigned long long http_guard_closed_for_room(const http_guard *g);

#endif
