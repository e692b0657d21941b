#include "lg_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arrivals.h"
#include "events.h"
#include "flags.h"
#include "net/http1.h"

#define RESPONSE_MAX_BYTES (64u << 20)
#define TIMER_TAG UINT64_MAX

typedef enum { C_CLOSED, C_CONNECTING, C_WRITING, C_READING, C_IDLE } conn_state;

typedef struct {
    int fd;
    conn_state state;
    size_t wr_off;
    char *buf;
    size_t len, cap;
    int64_t due_ns, sent_ns;
} conn;

typedef struct {
    const lg_config *c;
    lg_stats *s;
    int ep, timer;
    conn *conns;
    int *idle, nidle;      /* a stack of idle connections */
    int64_t *pending;      /* due instants not yet sent (a ring) */
    size_t phead, pcount, pcap;
    int busy;              /* connections with a request out */
    int64_t end_ns;        /* the run's end: --duration's, or when a signal came */
    int closed;            /* connections closed since the closed loop last reopened them */
    int64_t armed_ns;      /* what the timer is set to */
} loop;

static void note_error(loop *l, const char *fmt, const char *detail)
{
    if (l->s->first_error[0]) return;
    snprintf(l->s->first_error, sizeof l->s->first_error, fmt, detail);
}

static int in_window(const loop *l, int64_t due) { return due >= l->c->measure_ns && due < l->end_ns; }

/* A request is over: count it and report it. */
static void finish(loop *l, conn *k, int ok, int64_t now, uint64_t *error_counter)
{
    l->busy--;
    if (!in_window(l, k->due_ns)) return;
    int64_t latency = now - k->due_ns;
    if (ok) {
        l->s->ok++;
        lat_hist_record(&l->s->latency, latency);
        if (now < l->end_ns) l->s->completed_in_window++;
    } else {
        (*error_counter)++;
    }
    if (l->c->emit_events) events_latency(latency, ok);
}

static void conn_close(loop *l, conn *k)
{
    if (k->fd >= 0) close(k->fd);
    k->fd = -1;
    k->state = C_CLOSED;
    k->len = 0;
    l->closed++;
}

static void make_idle(loop *l, conn *k)
{
    k->state = C_IDLE;
    l->idle[l->nidle++] = (int)(k - l->conns);
}

static void progress(loop *l, conn *k);

/* Starts the request due at `due` on connection k (idle or closed). */
static void start(loop *l, conn *k, int64_t due)
{
    k->due_ns = due;
    k->sent_ns = events_now_ns();
    k->wr_off = 0;
    k->len = 0;
    l->busy++;
    if (in_window(l, due)) {
        l->s->sent++;
        if (l->c->open_loop && k->state == C_IDLE) lat_hist_record(&l->s->send_late, k->sent_ns - due);
    }
    if (k->state == C_CLOSED) {
        k->fd = socket(l->c->addr.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (k->fd < 0) {
            note_error(l, "socket: %s", strerror(errno));
            finish(l, k, 0, k->sent_ns, &l->s->io_errors);
            return;
        }
        int one = 1;
        setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)(k - l->conns)};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, k->fd, &ev);
        k->state = C_CONNECTING;
        if (connect(k->fd, (const struct sockaddr *)&l->c->addr.sa, l->c->addr.len) == 0) k->state = C_WRITING;
        else if (errno != EINPROGRESS) {
            note_error(l, "connect: %s", strerror(errno));
            finish(l, k, 0, k->sent_ns, &l->s->io_errors);
            conn_close(l, k);
            return;
        }
    } else {
        k->state = C_WRITING;
    }
    progress(l, k);
}

static void fail_conn(loop *l, conn *k, const char *what, const char *detail)
{
    note_error(l, what, detail);
    finish(l, k, 0, events_now_ns(), &l->s->io_errors);
    conn_close(l, k);
}

/* Moves connection k as far as its socket allows. */
static void progress(loop *l, conn *k)
{
    if (k->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) return fail_conn(l, k, "connect: %s", strerror(err));
        /* not connected yet: getpeername fails until it is */
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        if (getpeername(k->fd, (struct sockaddr *)&peer, &pl)) return;
        k->state = C_WRITING;
    }
    if (k->state == C_WRITING) {
        while (k->wr_off < l->c->request_len) {
            ssize_t n = send(k->fd, l->c->request + k->wr_off, l->c->request_len - k->wr_off, MSG_NOSIGNAL);
            if (n > 0) k->wr_off += (size_t)n;
            else if (n < 0 && errno == EINTR) continue;
            else if (n < 0 && errno == EAGAIN) return;
            else return fail_conn(l, k, "send: %s", n < 0 ? strerror(errno) : "closed");
        }
        k->state = C_READING;
        return; /* the answer cannot be there yet: its arrival is the next edge */
    }
    if (k->state == C_IDLE || k->state == C_CLOSED) {
        /* an idle keep-alive connection the server closed: drop it */
        char b[64];
        ssize_t n = recv(k->fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            for (int i = 0; i < l->nidle; i++)
                if (l->idle[i] == (int)(k - l->conns)) l->idle[i] = l->idle[--l->nidle];
            conn_close(l, k);
        }
        return;
    }
    if (k->state != C_READING) return;
    for (;;) {
        int eof = 0;
        if (k->len == k->cap) {
            if (k->cap >= RESPONSE_MAX_BYTES) return fail_conn(l, k, "%s", "a response exceeds 64 MiB");
            size_t cap = k->cap ? k->cap * 2 : 16384;
            char *b = realloc(k->buf, cap);
            if (!b) return fail_conn(l, k, "%s", "out of memory");
            k->buf = b, k->cap = cap;
        }
        ssize_t n = recv(k->fd, k->buf + k->len, k->cap - k->len, 0);
        if (n > 0) k->len += (size_t)n;
        else if (n == 0) eof = 1;
        else if (errno == EINTR) continue;
        else if (errno == EAGAIN) return;
        else return fail_conn(l, k, "recv: %s", strerror(errno));
        http1_response r;
        size_t total;
        const char *why = NULL;
        http1_result pr = http1_parse_response(k->buf, k->len, eof, &r, &total, &why);
        if (pr == HTTP1_BAD) return fail_conn(l, k, "bad response: %s", why);
        if (pr == HTTP1_MORE) {
            if (eof) return fail_conn(l, k, "%s", "the server closed the connection mid-response");
            continue;
        }
        int64_t now = events_now_ns();
        if (r.status == 200) finish(l, k, 1, now, NULL);
        else {
            char code[16];
            snprintf(code, sizeof code, "%d", r.status);
            note_error(l, "HTTP status %s", code);
            finish(l, k, 0, now, &l->s->http_errors);
        }
        if (r.close || eof || total != k->len) conn_close(l, k);
        else make_idle(l, k);
        return;
    }
}

static void push_pending(loop *l, int64_t due)
{
    if (l->pcount == l->pcap) {
        size_t cap = l->pcap ? l->pcap * 2 : 1024;
        int64_t *p = malloc(cap * sizeof *p);
        if (!p) return; /* dropped: counted as unsent below, since due was counted */
        for (size_t i = 0; i < l->pcount; i++) p[i] = l->pending[(l->phead + i) % l->pcap];
        free(l->pending);
        l->pending = p, l->pcap = cap, l->phead = 0;
    }
    l->pending[(l->phead + l->pcount++) % l->pcap] = due;
}

/* An idle connection, or a closed slot to open; -1 if none. */
static int free_conn(loop *l)
{
    if (l->nidle) return l->idle[--l->nidle];
    for (int i = 0; i < l->c->connections; i++)
        if (l->conns[i].state == C_CLOSED) return i;
    return -1;
}

static void dispatch(loop *l)
{
    while (l->pcount) {
        int i = free_conn(l);
        if (i < 0) return;
        int64_t due = l->pending[l->phead];
        l->phead = (l->phead + 1) % l->pcap, l->pcount--;
        start(l, &l->conns[i], due);
    }
}

/* The timer wakes the loop at an arrival's due time to the nanosecond;
 * re-arming costs a system call, so only when the time changes. */
static void arm(loop *l, int64_t at_ns)
{
    if (at_ns == l->armed_ns) return;
    l->armed_ns = at_ns;
    struct itimerspec it = {.it_value = {.tv_sec = at_ns / 1000000000LL, .tv_nsec = at_ns % 1000000000LL}};
    if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0) it.it_value.tv_nsec = 1;
    timerfd_settime(l->timer, TFD_TIMER_ABSTIME, &it, NULL);
}

static void check_timeouts(loop *l, int64_t now)
{
    for (int i = 0; i < l->c->connections; i++) {
        conn *k = &l->conns[i];
        if ((k->state == C_CONNECTING || k->state == C_WRITING || k->state == C_READING) &&
            now - k->due_ns > l->c->timeout_ns && now - k->sent_ns > l->c->timeout_ns) {
            note_error(l, "%s", "a request timed out");
            finish(l, k, 0, now, &l->s->timeouts);
            conn_close(l, k);
        }
    }
}

int lg_run(const lg_config *c, lg_stats *s)
{
    loop l = {.c = c, .s = s, .end_ns = c->end_ns};
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    l.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    l.conns = calloc((size_t)c->connections, sizeof *l.conns);
    l.idle = calloc((size_t)c->connections, sizeof *l.idle);
    if (l.ep < 0 || l.timer < 0 || !l.conns || !l.idle) {
        snprintf(s->first_error, sizeof s->first_error, "cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < c->connections; i++) l.conns[i].fd = -1;
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    epoll_ctl(l.ep, EPOLL_CTL_ADD, l.timer, &tev);

    arrivals arr;
    arrivals_init(&arr, c->poisson, c->open_loop ? c->rate_per_s : 1, c->start_ns, c->seed);
    int64_t next_due = c->open_loop ? arrivals_next(&arr) : INT64_MAX;
    int64_t hard_stop = c->end_ns < INT64_MAX - c->timeout_ns ? c->end_ns + c->timeout_ns : INT64_MAX;
    int64_t last_timeout_check = 0;
    /* closed loop: every connection starts at once */
    if (!c->open_loop)
        for (int i = 0; i < c->connections; i++) start(&l, &l.conns[i], events_now_ns());
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = events_now_ns();
        if (workload_stop && l.end_ns > now) {
            /* signalled: nothing more is due; answers still out get a second */
            l.end_ns = now;
            s->stopped_ns = now;
            if (hard_stop > now + 1000000000) hard_stop = now + 1000000000;
        }
        int ending = now >= l.end_ns;
        if (ending && l.busy == 0 && l.pcount == 0) break;
        if (now >= hard_stop) break;
        while (next_due <= now && next_due < l.end_ns) {
            if (in_window(&l, next_due)) s->due++;
            push_pending(&l, next_due);
            next_due = arrivals_next(&arr);
        }
        dispatch(&l);
        if (now - last_timeout_check > 1000000) {
            check_timeouts(&l, now);
            last_timeout_check = now;
        }
        /* closed loop: every idle connection sends again, until the end */
        if (!c->open_loop && !ending)
            while (l.nidle) start(&l, &l.conns[l.idle[--l.nidle]], events_now_ns());
        if (!c->open_loop && !ending && l.closed) {
            l.closed = 0;
            for (int i = 0; i < c->connections; i++)
                if (l.conns[i].state == C_CLOSED) start(&l, &l.conns[i], events_now_ns());
        }
        /* an arrival due soon: the timer, exactly; otherwise a coarse wait, which
         * also checks timeouts, signals and the end at least every 10 ms */
        int64_t wake = ending ? hard_stop : next_due < l.end_ns ? next_due : l.end_ns;
        int wait_ms = 10;
        if (wake <= now + 10000000) {
            arm(&l, wake);
            wait_ms = -1;
        }
        int n = epoll_wait(l.ep, evs, 256, wait_ms);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == TIMER_TAG) {
                uint64_t ticks;
                ssize_t r = read(l.timer, &ticks, sizeof ticks);
                (void)r;
                continue;
            }
            conn *k = &l.conns[evs[i].data.u64];
            if (k->fd >= 0) progress(&l, k);
        }
    }
    /* whatever is still out or never went out is a failure, with its delay so far */
    int64_t now = events_now_ns();
    for (int i = 0; i < c->connections; i++) {
        conn *k = &l.conns[i];
        if (k->state == C_CONNECTING || k->state == C_WRITING || k->state == C_READING)
            finish(&l, k, 0, now, &s->timeouts);
        if (k->fd >= 0) close(k->fd);
        free(k->buf);
    }
    for (size_t i = 0; i < l.pcount; i++) {
        int64_t due = l.pending[(l.phead + i) % l.pcap];
        if (in_window(&l, due)) {
            s->unsent++;
            if (c->emit_events) events_latency(now - due, 0);
        }
    }
    free(l.pending);
    free(l.conns);
    free(l.idle);
    close(l.timer);
    close(l.ep);
    return 0;
}
