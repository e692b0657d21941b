/* array.h - growing a heap array by doubling. */
#ifndef COTENANT_ARRAY_H
#define COTENANT_ARRAY_H

#include <stddef.h>

/* Makes *v (of *cap elements of elem bytes) hold at least need elements,
 * doubling from 1024; 0, or -1 out of memory (then *v is unchanged). */
int array_grow(void **v, int *cap, int need, size_t elem);

#endif
