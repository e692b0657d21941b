#include "exec/served.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http1.h"
#include "scenario/kinds.h"
#include "util/timeutil.h"

int served_free_port(cot_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return cot_errno(err, "socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || getsockname(fd, (struct sockaddr *)&sa, &len)) {
        cot_errno(err, "cannot find a free port on 127.0.0.1");
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

const char *served_model_name(const workload_spec *server)
{
    const char *model = "mlp";
    const builtin_kind *k = server->kind ? kind_lookup(server->kind) : NULL;
    for (int i = 0; k && k->args[i]; i++)
        if (!strcmp(k->args[i], "--model") && k->args[i + 1]) model = k->args[i + 1];
    for (int i = 0; i + 1 < server->nargs; i++)
        if (!strcmp(server->args[i], "--model")) model = server->args[i + 1];
    return model;
}

int served_wait_ready(int port, int64_t deadline_ns, bool (*gone)(void *arg), void *arg, char *why, size_t whycap)
{
    snprintf(why, whycap, "no answer yet");
    for (;;) {
        char probe[256];
        int st = http1_request("127.0.0.1", port, "GET", "/v2/health/ready", NULL, NULL, 0, 1000, NULL, NULL, probe,
                               sizeof probe);
        if (st == 200) return 0;
        if (st > 0) snprintf(why, whycap, "/v2/health/ready answered %d", st);
        else snprintf(why, whycap, "%s", probe);
        if (gone(arg)) {
            snprintf(why, whycap, "the server exited before it was ready (see its stderr.log)");
            return -1;
        }
        if (now_ns() >= deadline_ns) return -1;
        sleep_ns(50 * NS_PER_MS);
    }
}
