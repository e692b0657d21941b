/* listen_addr.h - the [ADDR:]PORT that a server's listening flag takes
 * (cotenant-serve --listen, cotenant run --prometheus): IPv4 only, with
 * 127.0.0.1 when the address is left out, so that nothing is exposed
 * beyond the machine unless asked. */
#ifndef COTENANT_LISTEN_ADDR_H
#define COTENANT_LISTEN_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* text: "PORT", "ADDR:PORT" or "localhost:PORT"; port 0 lets the kernel
 * choose. *addr_be is in network byte order. Returns 0, or -1 with err
 * naming the flag, the text and what is wrong. */
int net_parse_listen(const char *flag, const char *text, uint32_t *addr_be, int *port, char *err, size_t errcap);

#endif
