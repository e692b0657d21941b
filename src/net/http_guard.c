#include "net/http_guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* How often the guard looks: the deadline is kept to within this. */
#define GUARD_TICK_NS (50 * 1000 * 1000LL)

typedef struct {
    bool in_use, arriving;
    int fd;
    int64_t since_ns; /* when the connection became ready for its current request */
} guard_slot;

struct http_guard {
    pthread_mutex_t lock;
    pthread_t thread;
    atomic_bool stop;
    int64_t deadline_ns;
    unsigned max, reserve, nslots;
    guard_slot *slots;
    atomic_ullong closed_slow, closed_for_room;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Under the lock. */
static void cut(guard_slot *s)
{
    shutdown(s->fd, SHUT_RDWR);
    s->arriving = false; /* once is enough: libmicrohttpd closes it next */
}

static void *watch(void *arg)
{
    http_guard *g = arg;
    while (!atomic_load(&g->stop)) {
        struct timespec ts = {0, GUARD_TICK_NS};
        nanosleep(&ts, NULL);
        int64_t now = mono_ns();
        pthread_mutex_lock(&g->lock);
        unsigned in_use = 0;
        for (unsigned i = 0; i < g->nslots; i++) {
            guard_slot *s = &g->slots[i];
            if (!s->in_use) continue;
            in_use++;
            if (s->arriving && now - s->since_ns > g->deadline_ns) {
                cut(s);
                atomic_fetch_add(&g->closed_slow, 1);
            }
        }
        /* Keep the reserve: the oldest arriving requests go first. A cut
         * connection counts as in use until libmicrohttpd closes it. */
        unsigned room = g->max > g->reserve ? g->max - g->reserve : 1;
        while (in_use > room) {
            guard_slot *oldest = NULL;
            for (unsigned i = 0; i < g->nslots; i++) {
                guard_slot *s = &g->slots[i];
                if (s->in_use && s->arriving && (!oldest || s->since_ns < oldest->since_ns)) oldest = s;
            }
            if (!oldest) break;
            cut(oldest);
            atomic_fetch_add(&g->closed_for_room, 1);
            in_use--;
        }
        pthread_mutex_unlock(&g->lock);
    }
    return NULL;
}

http_guard *http_guard_start(const http_guard_opts *o)
{
    http_guard *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->deadline_ns = (int64_t)(o->request_deadline_s * 1e9);
    g->max = o->max_connections;
    g->reserve = o->reserve ? o->reserve : (o->max_connections / 10 ? o->max_connections / 10 : 1);
    /* libmicrohttpd may hold a few more than its limit while it closes some */
    g->nslots = o->max_connections + 64;
    g->slots = calloc(g->nslots, sizeof *g->slots);
    pthread_mutex_init(&g->lock, NULL);
    if (!g->slots || pthread_create(&g->thread, NULL, watch, g) != 0) {
        pthread_mutex_destroy(&g->lock);
        free(g->slots);
        free(g);
        return NULL;
    }
    return g;
}

void http_guard_stop(http_guard *g)
{
    if (!g) return;
    atomic_store(&g->stop, true);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    free(g->slots);
    free(g);
}

void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    http_guard *g = cls;
    pthread_mutex_lock(&g->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = NULL;
        for (unsigned i = 0; info && i < g->nslots; i++) {
            guard_slot *s = &g->slots[i];
            if (s->in_use) continue;
            *s = (guard_slot){.in_use = true, .arriving = true, .fd = info->connect_fd, .since_ns = mono_ns()};
            *socket_context = s;
            break;
        }
        /* no slot (cannot happen within the limit): the connection goes
         * unwatched rather than refused */
    } else if (*socket_context) {
        guard_slot *s = *socket_context;
        s->in_use = s->arriving = false;
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&g->lock);
}

static guard_slot *slot_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void http_guard_request_in(http_guard *g, struct MHD_Connection *c)
{
    guard_slot *s = slot_of(c);
    if (!g || !s) return;
    pthread_mutex_lock(&g->lock);
    s->arriving = false;
    pthread_mutex_unlock(&g->lock);
}

void http_guard_request_done(http_guard *g, struct MHD_Connection *c)
{
    guard_slot *s = slot_of(c);
    if (!g || !s) return;
    pthread_mutex_lock(&g->lock);
    if (s->in_use) s->arriving = true, s->since_ns = mono_ns();
    pthread_mutex_unlock(&g->lock);
}

unsigned long long http_guard_closed_slow(const http_guard *g) { return atomic_load(&((http_guard *)g)->closed_slow); }
unsigned long long http_guard_closed_for_room(const http_guard *g)
{
    return atomic_load(&((http_guard *)g)->closed_for_room);
}
