#include "mig/mig_parted.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/fs.h"
#include "util/yaml_emit.h"
#include "util/yaml_read.h"

typedef yaml_src pctx;

static int int_of(pctx *p, const yaml_node_t *n, const char *what, long lo, long hi, long *out)
{
    const char *s = yaml_scalar_of(n);
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi)
        return yaml_fail(p, n, "%s is '%s'; expected a whole number from %ld to %ld", what, s ? s : "(not a value)", lo, hi);
    *out = v;
    return 0;
}

static int bool_of(pctx *p, const yaml_node_t *n, const char *what, int *out)
{
    const char *s = yaml_scalar_of(n);
    if (s && !strcmp(s, "true")) *out = 1;
    else if (s && !strcmp(s, "false")) *out = 0;
    else return yaml_fail(p, n, "%s is '%s'; expected true or false", what, s ? s : "(not a value)");
    return 0;
}

static int parse_devices(pctx *p, const yaml_node_t *v, migparted_entry *e)
{
    const char *s = yaml_scalar_of(v);
    if (s) {
        if (strcmp(s, "all")) return yaml_fail(p, v, "devices is '%s'; expected all or a list of GPU indices such as [0, 1]", s);
        e->all_devices = 1;
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE) return yaml_fail(p, v, "devices: expected all or a list of GPU indices such as [0, 1]");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        if (e->ndevices == MIGPARTED_MAX_DEVICES)
            return yaml_fail(p, v, "devices: more than %d GPUs", MIGPARTED_MAX_DEVICES);
        long d;
        if (int_of(p, yaml_node_at(p, *it), "a device index", 0, 1023, &d)) return -1;
        e->devices[e->ndevices++] = (int)d;
    }
    if (!e->ndevices) return yaml_fail(p, v, "devices: the list is empty; name GPUs or use all");
    return 0;
}

static int parse_mig_devices(pctx *p, const yaml_node_t *v, migparted_entry *e)
{
    if (v->type != YAML_MAPPING_NODE)
        return yaml_fail(p, v, "mig-devices: expected a mapping of profile names to counts, such as \"1g.10gb\": 2");
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_node_at(p, pr->key), *c = yaml_node_at(p, pr->value);
        const char *name = yaml_scalar_of(k);
        if (!name || !*name || strlen(name) >= MIG_NAME_MAX)
            return yaml_fail(p, k, "mig-devices: expected a profile name such as \"1g.10gb\"");
        if (e->nprofiles == MIG_MAX_PROFILES) return yaml_fail(p, k, "mig-devices: more than %d profiles", MIG_MAX_PROFILES);
        for (int i = 0; i < e->nprofiles; i++)
            if (!strcmp(e->profile[i], name)) return yaml_fail(p, k, "mig-devices: '%s' is given twice", name);
        long n;
        char what[96];
        snprintf(what, sizeof what, "the count of '%s'", name);
        if (int_of(p, c, what, 0, MIG_MAX_INSTANCES, &n)) return -1;
        snprintf(e->profile[e->nprofiles], MIG_NAME_MAX, "%s", name);
        e->count[e->nprofiles++] = (int)n;
    }
    return 0;
}

static int parse_entry(pctx *p, const yaml_node_t *n, migparted_entry *e)
{
    memset(e, 0, sizeof *e);
    e->line = (int)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE)
        return yaml_fail(p, n, "expected an entry with devices, mig-enabled and mig-devices");
    int have_devices = 0, have_enabled = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_node_at(p, pr->key), *v = yaml_node_at(p, pr->value);
        const char *key = yaml_scalar_of(k);
        if (!key) return yaml_fail(p, k, "expected a key");
        if (!strcmp(key, "devices")) {
            if (parse_devices(p, v, e)) return -1;
            have_devices = 1;
        } else if (!strcmp(key, "mig-enabled")) {
            if (bool_of(p, v, "mig-enabled", &e->mig_enabled)) return -1;
            have_enabled = 1;
        } else if (!strcmp(key, "mig-devices")) {
            if (parse_mig_devices(p, v, e)) return -1;
        } else if (!strcmp(key, "device-filter")) {
            /* PCI device ids the entry applies to: kept by mig-parted, not needed to plan */
        } else {
            return yaml_fail(p, k, "unknown key '%s'; an entry has devices, device-filter, mig-enabled and mig-devices", key);
        }
    }
    if (!have_devices) return yaml_fail(p, n, "the entry has no 'devices' (all, or a list of GPU indices)");
    if (!have_enabled) return yaml_fail(p, n, "the entry has no 'mig-enabled' (true or false)");
    if (!e->mig_enabled && e->nprofiles)
        return yaml_fail(p, n, "mig-enabled is false but mig-devices lists profiles; enable MIG or drop them");
    return 0;
}

static int parse_configs(pctx *p, const yaml_node_t *v, migparted_file *out)
{
    if (v->type != YAML_MAPPING_NODE) return yaml_fail(p, v, "mig-configs: expected a mapping of config names to entry lists");
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    out->configs = calloc(n ? n : 1, sizeof *out->configs);
    if (!out->configs) return yaml_fail(p, v, "out of memory");
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_node_at(p, pr->key), *list = yaml_node_at(p, pr->value);
        const char *name = yaml_scalar_of(k);
        if (!name || !*name || strlen(name) >= sizeof out->configs[0].name)
            return yaml_fail(p, k, "mig-configs: expected a config name (at most %zu characters)",
                        sizeof out->configs[0].name - 1);
        for (int i = 0; i < out->nconfigs; i++)
            if (!strcmp(out->configs[i].name, name)) return yaml_fail(p, k, "config '%s' is defined twice", name);
        migparted_config *c = &out->configs[out->nconfigs++];
        snprintf(c->name, sizeof c->name, "%s", name);
        c->line = (int)k->start_mark.line + 1;
        if (list->type != YAML_SEQUENCE_NODE)
            return yaml_fail(p, list, "config '%s': expected a list of entries (- devices: ...)", name);
        size_t m = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
        if (!m) return yaml_fail(p, list, "config '%s' has no entries", name);
        c->entries = calloc(m, sizeof *c->entries);
        if (!c->entries) return yaml_fail(p, list, "out of memory");
        for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++)
            if (parse_entry(p, yaml_node_at(p, *it), &c->entries[c->nentries++])) return -1;
    }
    return 0;
}

int migparted_parse(const char *name, const char *text, size_t len, migparted_file *out, cot_err *err)
{
    memset(out, 0, sizeof *out);
    pctx p = {.file = name, .err = err};
    if (len > MIGPARTED_MAX_BYTES)
        return cot_errf(err, "%s: the file is %zu bytes; mig-parted configs are limited to %d bytes here", name, len,
                        MIGPARTED_MAX_BYTES);
    yaml_document_t doc;
    if (yaml_read_one(name, "a mig-parted config", text, len, &doc, err) != 0) return -1;
    p.doc = &doc;
    int rc = -1, have_version = 0, have_configs = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        yaml_fail(&p, root, "expected a mig-parted config: version: v1 and mig-configs");
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_node_at(&p, pr->key), *v = yaml_node_at(&p, pr->value);
        const char *key = yaml_scalar_of(k);
        if (key && ((!strcmp(key, "version") && have_version) || (!strcmp(key, "mig-configs") && have_configs))) {
            yaml_fail(&p, k, "'%s' is given twice", key);
            goto out;
        }
        if (key && !strcmp(key, "version")) {
            if (!yaml_scalar_of(v) || strcmp(yaml_scalar_of(v), "v1")) {
                yaml_fail(&p, v, "version is '%s'; this reads mig-parted's v1", yaml_scalar_of(v) ? yaml_scalar_of(v) : "(not a value)");
                goto out;
            }
            have_version = 1;
        } else if (key && !strcmp(key, "mig-configs")) {
            if (parse_configs(&p, v, out)) goto out;
            have_configs = 1;
        } else {
            yaml_fail(&p, k, "unknown key '%s'; a mig-parted config has version and mig-configs", key ? key : "?");
            goto out;
        }
    }
    if (!have_version) yaml_fail(&p, root, "no 'version: v1'");
    else if (!have_configs) yaml_fail(&p, root, "no 'mig-configs'");
    else rc = 0;
out:
    yaml_document_delete(&doc);
    if (rc) migparted_free(out);
    return rc;
}

int migparted_parse_file(const char *path, migparted_file *out, cot_err *err)
{
    char *text;
    size_t len;
    memset(out, 0, sizeof *out);
    if (fs_read_file_limited(path, MIGPARTED_MAX_BYTES, &text, &len, err)) return -1;
    int rc = migparted_parse(path, text, len, out, err);
    free(text);
    return rc;
}

void migparted_free(migparted_file *f)
{
    for (int i = 0; i < f->nconfigs; i++) free(f->configs[i].entries);
    free(f->configs);
    memset(f, 0, sizeof *f);
}

const migparted_config *migparted_find(const migparted_file *f, const char *config)
{
    for (int i = 0; i < f->nconfigs; i++)
        if (!strcmp(f->configs[i].name, config)) return &f->configs[i];
    return NULL;
}

void migparted_layout_text(const migparted_entry *e, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < e->nprofiles && k < cap; i++) {
        if (!e->count[i]) continue;
        k += (size_t)snprintf(buf + k, cap - k, "%s%dx%s", k ? "," : "", e->count[i], e->profile[i]);
    }
}

json_t *migparted_config_json(const char *config, json_t *devices, const char *const *profiles, const int *counts, int n)
{
    json_t *mig_devices = json_object();
    for (int i = 0; i < n; i++) json_object_set_new(mig_devices, profiles[i], json_integer(counts[i]));
    return json_pack("{s:s, s:{s:[{s:o, s:b, s:o}]}}", "version", "v1", "mig-configs", config, "devices", devices,
                     "mig-enabled", 1, "mig-devices", mig_devices);
}

int migparted_write(FILE *f, const char *config, json_t *devices, const mig_plan *plan, cot_err *err)
{
    const char *profiles[MIG_MAX_INSTANCES];
    int counts[MIG_MAX_INSTANCES], n = 0;
    for (int i = 0; i < plan->n; i++) {
        int k = 0;
        while (k < n && strcmp(profiles[k], plan->inst[i].profile->name)) k++;
        if (k == n) profiles[n] = plan->inst[i].profile->name, counts[n++] = 0;
        counts[k]++;
    }
    json_t *doc = migparted_config_json(config, devices, profiles, counts, n);
    if (!doc) return cot_errf(err, "out of memory");
    char *text = yaml_emit_string(doc, err);
    json_decref(doc);
    if (!text) return -1;
    int rc = fputs(text, f) < 0 ? cot_errno(err, "cannot write the mig-parted config") : 0;
    free(text);
    return rc;
}
