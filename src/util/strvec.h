/* strvec.h - a growable NULL-terminated vector of owned strings, used for
 * argv and environment blocks handed to execve. */
#ifndef COTENANT_STRVEC_H
#define COTENANT_STRVEC_H

typedef struct {
    char **v; /* always NULL-terminated once anything was pushed */
    int n, cap;
} strvec;

int strvec_push(strvec *sv, const char *s);
int strvec_pushf(strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Environment helpers: entries are "KEY=VALUE"; set replaces an existing KEY. */
int strvec_setenv(strvec *sv, const char *key, const char *value);
void strvec_unsetenv(strvec *sv, const char *key);
const char *strvec_getenv(const strvec *sv, const char *key);
int strvec_from_environ(strvec *sv);
void strvec_free(strvec *sv);

#endif
