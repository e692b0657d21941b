/* telemetry_csv.h - telemetry.csv's columns, defined once. The writer
 * fills a row column by column (so every row has the header's count of
 * fields), and the readers find columns by these names. One row per GPU
 * per tick (record "gpu"), then one per process on it ("process") and per
 * MIG instance ("mig"); columns that do not apply to a record are empty,
 * as are figures that are not available. docs/telemetry.md describes each
 * column. */
#ifndef COTENANT_TELEMETRY_CSV_H
#define COTENANT_TELEMETRY_CSV_H

#include <stdio.h>

/* The longest CSV line any reader of these files accepts (a GPU row, or a
 * process row with its name): the analysis and the node sampler's follower
 * read with this bound. */
#define TELEM_LINE_MAX 8192

/* The columns in order, each with its unit as nvidia-smi writes units in a
 * CSV header ("util_gpu [%]"; none for the key columns and labels). Every
 * row starts with the four key columns: the monotonic instant, the same
 * instant in wall-clock time (RFC 3339, UTC), the GPU and the record. */
#define TELEMETRY_CSV_COLUMNS(X)                                                                                       \
    X(T_NS, "t_ns", "") X(TIMESTAMP, "timestamp", "") X(GPU, "gpu", "") X(RECORD, "record", "") X(PID, "pid", "")      \
    X(PROCESS, "process", "") X(GPU_INSTANCE, "gpu_instance", "") X(UTIL_GPU, "util_gpu", "%")                         \
    X(UTIL_MEM, "util_mem", "%") X(MEM_USED_MIB, "mem_used_mib", "MiB") X(MEM_TOTAL_MIB, "mem_total_mib", "MiB")       \
    X(POWER_W, "power_w", "W") X(ENERGY_J, "energy_j", "J") X(SM_CLOCK_MHZ, "sm_clock_mhz", "MHz")                     \
    X(MEM_CLOCK_MHZ, "mem_clock_mhz", "MHz") X(TEMP_C, "temp_c", "C") X(THROTTLE_REASONS, "throttle_reasons", "")      \
    X(SM_ACTIVE, "sm_active", "%") X(SM_OCCUPANCY, "sm_occupancy", "%") X(TENSOR_ACTIVE, "tensor_active", "%")         \
    X(DRAM_ACTIVE, "dram_active", "%") X(PCIE_TX_MIB_S, "pcie_tx_mib_s", "MiB/s")                                      \
    X(PCIE_RX_MIB_S, "pcie_rx_mib_s", "MiB/s") X(PROC_MEM_MIB, "proc_mem_mib", "MiB")                                  \
    X(PROC_SM_UTIL, "proc_sm_util", "%") X(PROC_MEM_UTIL, "proc_mem_util", "%") X(MPS_CLIENT, "mps_client", "")     \
    X(WORKLOAD, "workload", "")

typedef enum {
#define TELEMETRY_CSV_ENUM(id, name, unit) TCOL_##id,
    TELEMETRY_CSV_COLUMNS(TELEMETRY_CSV_ENUM)
#undef TELEMETRY_CSV_ENUM
    TCOL_COUNT
} telemetry_csv_col;

/* The record column's values. */
#define TELEMETRY_RECORD_GPU "gpu"
#define TELEMETRY_RECORD_PROCESS "process"
#define TELEMETRY_RECORD_MIG "mig"

/* Each column's name, by telemetry_csv_col, and its unit ("" for none). */
extern const char *const telemetry_csv_names[TCOL_COUNT];
extern const char *const telemetry_csv_units[TCOL_COUNT];
/* The header line, without its newline: each name, then " [unit]" where it has one. */
const char *telemetry_csv_header(void);
/* The start every header has: the key columns and their commas
 * ("t_ns,timestamp,gpu,record,"). */
const char *telemetry_csv_key_prefix(void);
/* Whether a header field names column c, with or without its unit (files
 * written before the units were added have the bare names). */
int telemetry_csv_header_names(const char *field, telemetry_csv_col c);

/* One row being filled; every field starts empty. */
typedef struct {
    const char *field[TCOL_COUNT];
    char num[TCOL_COUNT][48];
} telemetry_csv_row;

void telemetry_csv_row_init(telemetry_csv_row *r);
/* A figure with that many decimals; empty where it is not finite. */
void telemetry_csv_row_num(telemetry_csv_row *r, telemetry_csv_col c, double v, int decimals);
void telemetry_csv_row_int(telemetry_csv_row *r, telemetry_csv_col c, long long v);
/* Text, kept by pointer until the row is written. */
void telemetry_csv_row_text(telemetry_csv_row *r, telemetry_csv_col c, const char *s);
/* The row and its newline; a field holding a comma, a quote or a line break
 * is quoted (line breaks become spaces). */
void telemetry_csv_row_write(FILE *f, const telemetry_csv_row *r);

#endif
