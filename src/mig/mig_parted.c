#include "mig/mig_parted.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util/fs.h"
#include "util/yaml_emit.h"
#include "util/yaml_read.h"

typedef yaml_src pctx;

/* A plain (unquoted) scalar: YAML's quoted "2" and "true" are strings,
 * which mig-parted refuses where it wants a number or a boolean. */
static const char *plain_of(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? yaml_scalar_of(n)
                                                                                                 : NULL;
}

static int int_of(pctx *p, const yaml_node_t *n, const char *what, long lo, long hi, long *out)
{
    const char *s = plain_of(n);
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi)
        return yaml_fail(p, n, "%s is %s%s%s; expected a whole number from %ld to %ld, unquoted", what,
                         s || !yaml_scalar_of(n) ? "'" : "the string \"", yaml_scalar_of(n) ? yaml_scalar_of(n) : "(not a value)",
                         s || !yaml_scalar_of(n) ? "'" : "\"", lo, hi);
    *out = v;
    return 0;
}

static int bool_of(pctx *p, const yaml_node_t *n, const char *what, int *out)
{
    const char *s = plain_of(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))) *out = 0;
    else if (!s && yaml_scalar_of(n))
        return yaml_fail(p, n, "%s is the string \"%s\"; expected true or false, unquoted", what, yaml_scalar_of(n));
    else return yaml_fail(p, n, "%s is '%s'; expected true or false", what, s ? s : "(not a value)");
    return 0;
}

/* "<n><suffix>" with n a positive whole number: one field of a profile name. */
static int profile_field(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix), k = 0;
    if (len <= sl || strncmp(s + len - sl, suffix, sl)) return -1;
    int v = 0;
    for (; k < len - sl; k++) {
        if (s[k] < '0' || s[k] > '9' || v > 1000) return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v > 0 ? v : -1;
}

/* mig-parted's profile grammar: [<C>c.]<G>g.<M>gb, then either
 * +attr[,attr...] or -attr[,attr...]; an attribute is letters, digits and
 * inner dots, not starting with a digit, each once. NULL, or what is wrong. */
static const char *profile_format_error(const char *name)
{
    const char *plus = strchr(name, '+'), *minus = strchr(name, '-');
    if (plus && minus) return "it has both + and - attributes";
    const char *attrs = plus ? plus : minus;
    size_t flen = attrs ? (size_t)(attrs - name) : strlen(name);
    const char *dot1 = memchr(name, '.', flen), *dot2 = dot1 ? memchr(dot1 + 1, '.', flen - (size_t)(dot1 + 1 - name)) : NULL;
    if (!dot1) return "expected <G>g.<M>gb or <C>c.<G>g.<M>gb";
    int c = 0, g, m;
    if (dot2) {
        c = profile_field(name, (size_t)(dot1 - name), "c");
        g = profile_field(dot1 + 1, (size_t)(dot2 - dot1 - 1), "g");
        m = profile_field(dot2 + 1, flen - (size_t)(dot2 + 1 - name), "gb");
    } else {
        g = profile_field(name, (size_t)(dot1 - name), "g");
        m = profile_field(dot1 + 1, flen - (size_t)(dot1 + 1 - name), "gb");
    }
    if (c < 0 || g < 0 || m < 0) return "expected <G>g.<M>gb or <C>c.<G>g.<M>gb with whole numbers";
    if (c > g) return "a compute instance larger than its GPU instance";
    if (!attrs) return NULL;
    const char *a = attrs + 1;
    if (!*a) return "an empty attribute list";
    char seen[8][MIG_NAME_MAX];
    int nseen = 0;
    for (;;) {
        size_t len = strcspn(a, ",");
        if (!len) return "an empty attribute";
        if (a[0] >= '0' && a[0] <= '9') return "an attribute that begins with a digit";
        if (a[0] == '.' || a[len - 1] == '.') return "an attribute that begins or ends with a dot";
        for (size_t k = 0; k < len; k++)
            if (!isalnum((unsigned char)a[k]) && a[k] != '.') return "an attribute with a character other than letters, digits and dots";
        for (int k = 0; k < nseen; k++)
            if (strlen(seen[k]) == len && !strncmp(seen[k], a, len)) return "an attribute given twice";
        if (nseen < 8) snprintf(seen[nseen++], sizeof seen[0], "%.*s", (int)len, a);
        if (!a[len]) return NULL;
        a += len + 1;
    }
}

/* One id of device-filter: 0x and up to 8 hex digits (0x233010DE). */
static int filter_id(pctx *p, const yaml_node_t *n, migparted_entry *e)
{
    const char *s = yaml_scalar_of(n);
    char *end;
    if (!s || strncasecmp(s, "0x", 2) || strlen(s) < 3 || strlen(s) > 10)
        return yaml_fail(p, n, "device-filter: '%s' is not a PCI device id such as 0x233010DE", s ? s : "(not a value)");
    unsigned long v = strtoul(s + 2, &end, 16);
    if (*end) return yaml_fail(p, n, "device-filter: '%s' is not a PCI device id such as 0x233010DE", s);
    if (e->nfilter == MIGPARTED_MAX_FILTER) return yaml_fail(p, n, "device-filter: more than %d ids", MIGPARTED_MAX_FILTER);
    e->filter[e->nfilter++] = (unsigned)v;
    return 0;
}

/* device-filter: one id, or a list of them */
static int parse_filter(pctx *p, const yaml_node_t *v, migparted_entry *e)
{
    if (yaml_scalar_of(v)) return filter_id(p, v, e);
    if (v->type != YAML_SEQUENCE_NODE) return yaml_fail(p, v, "device-filter: expected a PCI device id or a list of them");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        if (filter_id(p, yaml_node_at(p, *it), e)) return -1;
    if (!e->nfilter) return yaml_fail(p, v, "device-filter: the list is empty; leave the key out for every GPU");
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
        const char *name = yaml_scalar_of(k), *bad;
        if (!name || !*name || strlen(name) >= MIG_NAME_MAX)
            return yaml_fail(p, k, "mig-devices: expected a profile name such as \"1g.10gb\"");
        if ((bad = profile_format_error(name)))
            return yaml_fail(p, k, "mig-devices: '%s' is not a MIG profile name (%s), such as \"3g.40gb\", "
                                   "\"1c.3g.40gb\" or \"1g.10gb+me\"", name, bad);
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
    /* as mig-parted: an empty mapping is MIG with no instances, but counts
     * given must not all be 0 */
    int total = 0;
    for (int i = 0; i < e->nprofiles; i++) total += e->count[i];
    if (e->nprofiles && !total) return yaml_fail(p, v, "mig-devices: every count is 0; give one above 0, or use {}");
    return 0;
}

static int parse_entry(pctx *p, const yaml_node_t *n, migparted_entry *e)
{
    memset(e, 0, sizeof *e);
    e->line = (int)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE)
        return yaml_fail(p, n, "expected an entry with devices, mig-enabled and mig-devices");
    int have_devices = 0, have_enabled = 0, have_mig_devices = 0;
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
            have_mig_devices = 1;
        } else if (!strcmp(key, "device-filter")) {
            if (parse_filter(p, v, e)) return -1;
        } else {
            return yaml_fail(p, k, "unknown key '%s'; an entry has devices, device-filter, mig-enabled and mig-devices", key);
        }
    }
    if (!have_devices) return yaml_fail(p, n, "the entry has no 'devices' (all, or a list of GPU indices)");
    if (!have_enabled) return yaml_fail(p, n, "the entry has no 'mig-enabled' (true or false)");
    if (e->mig_enabled && !have_mig_devices)
        return yaml_fail(p, n, "mig-enabled is true but the entry has no 'mig-devices' (use {} for no instances)");
    if (!e->mig_enabled && e->nprofiles)
        return yaml_fail(p, n, "mig-enabled is false but mig-devices lists profiles; enable MIG or drop them");
    return 0;
}

static int parse_configs(pctx *p, const yaml_node_t *v, migparted_file *out)
{
    if (v->type != YAML_MAPPING_NODE) return yaml_fail(p, v, "mig-configs: expected a mapping of config names to entry lists");
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (!n) return yaml_fail(p, v, "mig-configs is empty; mig-parted needs at least one config");
    out->configs = calloc(n, sizeof *out->configs);
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

void migparted_layout_text(const migparted_entry *e, char *buf, size_t cap, int *has_ci)
{
    size_t k = 0;
    buf[0] = 0;
    *has_ci = 0;
    for (int i = 0; i < e->nprofiles && k < cap; i++) {
        if (!e->count[i]) continue;
        /* "1c.3g.40gb": the GPU instance is what follows the first dot */
        const char *gi = e->profile[i], *dot = strchr(gi, '.');
        if (dot && strchr(dot + 1, '.') && dot[-1] == 'c') gi = dot + 1, *has_ci = 1;
        k += (size_t)snprintf(buf + k, cap - k, "%s%dx%s", k ? "," : "", e->count[i], gi);
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
