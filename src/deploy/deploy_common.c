/* What the Compose and Kubernetes writers share: which modes they run,
 * names, and each workload's container command and environment. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deploy/deploy.h"
#include "mode/mode.h"
#include "telemetry/env_owner.h"
#include "util/strvec.h"

const mode_desc *deploy_mode(const char *mode)
{
    static const mode_desc none = {.name = "?"};
    const mode_desc *m = mode_desc_lookup(mode);
    return m ? m : &none;
}

const char *deploy_mode_unsupported(const scenario *sc, const char *mode, bool cpu_ok)
{
    if (sc->device == DEVICE_CPU && !cpu_ok)
        return "the scenario runs CPU workloads; Kubernetes Jobs here share a node's GPU (run CPU scenarios locally or "
               "with --executor compose)";
    const mode_desc *m = mode_desc_lookup(mode);
    if (!m) return "unknown mode";
    return m->container_refusal;
}

void deploy_dns_label(const char *text, char *out, size_t max)
{
    size_t n = 0;
    for (const char *c = text; *c && n < max; c++) {
        char ch = (char)tolower((unsigned char)*c);
        if (!isalnum((unsigned char)ch)) ch = '-';
        if (ch == '-' && (n == 0 || out[n - 1] == '-')) continue; /* no leading or doubled dashes */
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == '-') n--;
    if (n == 0) out[n++] = 'x';
    out[n] = 0;
}

static json_t *duration_text(double s)
{
    return json_sprintf("%.0fs", ceil(s));
}

json_t *deploy_agent_command(const deploy_spec *d, int i, const char *results_subdir, cot_err *err)
{
    const workload_spec *w = &d->sc->workloads[d->idx[i]];
    strvec argv = {0};
    if (workload_argv(w, &d->addr[i], &argv, err) != 0) return NULL;
    json_t *cmd = json_pack("[s, s, s, o, s, o]", "cotenant", "agent", "--stop-after", duration_text(d->stop_after_s),
                            "--grace", duration_text(d->grace_s));
    /* a load generator starts once its server answers ready; under MPS a
     * workload once the daemon's pipe is there: both within the start-up
     * timeout */
    if (d->addr[i].target_port > 0) {
        json_array_append_new(cmd, json_string("--wait-ready"));
        json_array_append_new(cmd, json_sprintf("%d", d->addr[i].target_port));
    }
    json_array_append_new(cmd, json_string("--ready-timeout"));
    json_array_append_new(cmd, duration_text(d->sc->startup_timeout_s));
    if (results_subdir) {
        json_array_append_new(cmd, json_string("--results"));
        json_array_append_new(cmd, json_sprintf("%s/%s", DEPLOY_RESULTS_MOUNT, results_subdir));
    }
    json_array_append_new(cmd, json_string("--"));
    for (int k = 0; k < argv.n; k++) json_array_append_new(cmd, json_string(argv.v[k]));
    strvec_free(&argv);
    return cmd;
}

json_t *deploy_env(const deploy_spec *d, int i)
{
    const workload_spec *w = &d->sc->workloads[d->idx[i]];
    strvec env = {0};
    /* Under the device plugin's MPS the plugin gives the pipe folder; in
     * Compose it is the folder the daemon service shares. */
    if (deploy_mode(d->mode)->mps_clients) {
        if (!d->k8s_namespace) {
            strvec_setenv(&env, "CUDA_MPS_PIPE_DIRECTORY", DEPLOY_MPS_MOUNT "/pipe");
            strvec_setenv(&env, "CUDA_MPS_LOG_DIRECTORY", DEPLOY_MPS_MOUNT "/log");
        }
        mode_mps_client_limits(w, &env);
    }
    workload_env(d->sc, w, d->mode, d->repeat, &d->addr[i], &env);
    /* what a sampler tells this run's GPU processes by */
    char tag[160];
    workload_segment_tag(d->run_id, d->segment, tag, sizeof tag);
    strvec_setenv(&env, ENV_OWNER_SEGMENT_VAR, tag);
    json_t *o = json_object();
    for (int k = 0; k < env.n; k++) {
        const char *eq = strchr(env.v[k], '=');
        if (!eq) continue;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - env.v[k]), env.v[k]);
        json_object_set_new(o, key, json_string(eq + 1));
    }
    strvec_free(&env);
    return o;
}
