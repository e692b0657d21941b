/* mig_parted.h - nvidia-mig-parted's configuration file (version v1), the
 * format the GPU Operator's MIG manager applies:
 *
 *   version: v1
 *   mig-configs:
 *     NAME:
 *       - devices: all            # or a list of GPU indices
 *         mig-enabled: true
 *         mig-devices:
 *           "3g.40gb": 1
 *           "1g.10gb": 2
 *
 * Read (every error with file:line:column) and written, so that a layout
 * planned here can be applied by mig-parted and a cluster's configs can be
 * checked here. Read as strictly as mig-parted reads it: a quoted "true" or
 * "2" is a string, not a boolean or a count; profile names follow its
 * grammar ([<C>c.]<G>g.<M>gb, then +attributes or -attributes); counts may
 * not all be 0; no config or entry list is empty. */
#ifndef COTENANT_MIG_PARTED_H
#define COTENANT_MIG_PARTED_H

#include <jansson.h>
#include <stdio.h>

#include "mig/mig_plan.h"
#include "util/err.h"

#define MIGPARTED_MAX_BYTES (1 << 20)
#define MIGPARTED_MAX_DEVICES 64
#define MIGPARTED_MAX_FILTER 16

typedef struct {
    int line;                         /* where the entry starts, 1-based */
    int all_devices;
    int devices[MIGPARTED_MAX_DEVICES], ndevices;
    /* device-filter: the PCI ids (0x233010DE) the entry is for; none: every GPU */
    unsigned filter[MIGPARTED_MAX_FILTER];
    int nfilter;
    int mig_enabled;
    int nprofiles;
    char profile[MIG_MAX_PROFILES][MIG_NAME_MAX]; /* as written, "MIG " prefix and all */
    int count[MIG_MAX_PROFILES];
} migparted_entry;

typedef struct {
    char name[128];
    int line;
    int nentries;
    migparted_entry *entries;
} migparted_config;

typedef struct {
    int nconfigs;
    migparted_config *configs;
} migparted_file;

/* name is what errors call the text (its path). 0, or -1 with err. */
int migparted_parse(const char *name, const char *text, size_t len, migparted_file *out, cot_err *err);
int migparted_parse_file(const char *path, migparted_file *out, cot_err *err);
void migparted_free(migparted_file *f);
const migparted_config *migparted_find(const migparted_file *f, const char *config);

/* An entry's GPU instances as a layout for mig_layout_parse
 * ("1x3g.40gb,2x1g.10gb"): a compute-instance profile (1c.3g.40gb) counts
 * as its GPU instance (3g.40gb), which holds the compute instance; *has_ci
 * says whether there was one. */
void migparted_layout_text(const migparted_entry *e, char *buf, size_t cap, int *has_ci);

/* A whole mig-parted file of one config of one entry, as a tree for
 * util/yaml_emit: devices (stolen: the string "all" or an array of GPU
 * indices), mig-enabled, and profiles[i] with counts[i], in that order.
 * The one writer of the format: cotenant mig export and the Kubernetes
 * objects of cotenant deploy both use it. */
json_t *migparted_config_json(const char *config, json_t *devices, const char *const *profiles, const int *counts, int n);
/* plan's instances (each profile once, in order of first appearance) in
 * that form, written to f as YAML. 0, or -1 with err. */
int migparted_write(FILE *f, const char *config, json_t *devices, const mig_plan *plan, cot_err *err);

#endif
