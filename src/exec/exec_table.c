/* The table of executors: one line each. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"

/* Each defined in its own file, exec_NAME.c. */
extern const executor_ops executor_local, executor_compose, executor_k8s;

static const executor_ops *const executors[] = {&executor_local, &executor_compose, &executor_k8s};
#define NEXECUTORS ((int)(sizeof executors / sizeof executors[0]))

const executor_ops *executor_lookup(const char *name)
{
    for (int i = 0; i < NEXECUTORS; i++)
        if (!strcmp(executors[i]->name, name)) return executors[i];
    return NULL;
}

const executor_ops *executor_default(void)
{
    return executors[0];
}

static char names[128];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void build_names(void)
{
    size_t n = 0;
    for (int i = 0; i < NEXECUTORS && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", !i ? "" : i == NEXECUTORS - 1 ? " or " : ", ",
                              executors[i]->name);
}

const char *executor_names(void)
{
    pthread_once(&names_once, build_names);
    return names;
}

void executor_close(executor *ex)
{
    if (ex) ex->ops->close(ex);
}
