/* monitor_tui.h - the live terminal view of `cotenant monitor` (ncurses):
 * one block per GPU, one row per process on it. */
#ifndef COTENANT_MONITOR_TUI_H
#define COTENANT_MONITOR_TUI_H

#include "telemetry/gpu_reader.h"

void tui_start(void);
/* Draws the latest samples (one per GPU of the reader). */
void tui_draw(const gpu_reader *r, const gpu_sample *s, int n, double interval_s, double elapsed_s);
/* Waits up to timeout_ms for a key; returns it, or -1. */
int tui_key(int timeout_ms);
void tui_end(void);

/* The names of the throttle reasons set in an NVML bitmask, comma-separated,
 * or "none". */
void throttle_reason_names(unsigned long long mask, char *out, size_t cap);

#endif
