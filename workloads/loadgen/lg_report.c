#include "lg_report.h"

#include <stdint.h>

uint64_t lg_point_errors(const lg_point *p)
{
    return p->all.http_errors + p->all.io_errors + p->all.timeouts + p->all.unsent;
}

static double q_ms(const lg_point *p, double q) { return (double)lat_hist_quantile(&p->all.latency, q) * 1e-6; }

static double mean_ms(const lg_point *p)
{
    return p->all.latency.count ? p->all.latency.sum / (double)p->all.latency.count * 1e-6 : 0.0;
}

static double max_ms(const lg_point *p) { return (double)p->all.latency.max * 1e-6 * (p->all.latency.count > 0); }

static double achieved(const lg_point *p) { return (double)p->all.completed_in_window / p->window_s; }

/* SLO attainment: answered 200 within the SLO, over every measured request. */
static double slo_attained(const lg_point *p)
{
    uint64_t measured = p->all.ok + lg_point_errors(p);
    if (!(p->slo_s > 0) || !measured) return -1;
    return lat_hist_fraction_le(&p->all.latency, (int64_t)(p->slo_s * 1e9)) * (double)p->all.ok / (double)measured;
}

void lg_report_text(FILE *f, const char *prog, const char *target, const lg_point *p)
{
    const lg_stats *a = &p->all;
    fprintf(f, "%s: %s loop against %s, %d thread%s, %d connection%s\n", prog, p->open_loop ? "open" : "closed", target,
            p->threads, p->threads > 1 ? "s" : "", p->connections, p->connections > 1 ? "s" : "");
    if (p->open_loop)
        fprintf(f, "  offered   %.1f req/s (%s), %llu due in %.1fs\n", p->rate, p->poisson ? "Poisson" : "constant",
                (unsigned long long)a->due, p->window_s);
    fprintf(f, "  achieved  %.1f req/s answered 200 in the window\n", achieved(p));
    fprintf(f, "  answered  %llu ok, %llu HTTP errors, %llu connection errors, %llu timed out, %llu never sent\n",
            (unsigned long long)a->ok, (unsigned long long)a->http_errors, (unsigned long long)a->io_errors,
            (unsigned long long)a->timeouts, (unsigned long long)a->unsent);
    fprintf(f, "  latency   p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f ms%s\n", q_ms(p, 0.5),
            q_ms(p, 0.9), q_ms(p, 0.95), q_ms(p, 0.99), q_ms(p, 0.999), max_ms(p), mean_ms(p),
            p->open_loop ? " (from each request's scheduled time)" : "");
    if (p->slo_s > 0)
        fprintf(f, "  SLO       %.1f%% of requests answered 200 within %g ms\n", 100 * slo_attained(p), p->slo_s * 1e3);
    if (p->open_loop)
        fprintf(f, "  send lag  p50 %.1f  p99 %.1f  max %.1f us (sent minus scheduled, on idle connections)\n",
                (double)lat_hist_quantile(&a->send_late, 0.5) * 1e-3, (double)lat_hist_quantile(&a->send_late, 0.99) * 1e-3,
                (double)a->send_late.max * 1e-3 * (a->send_late.count > 0));
    if (p->first_error) fprintf(f, "  first error: %s\n", p->first_error);
}

void lg_report_json(FILE *f, const lg_point *p)
{
    const lg_stats *a = &p->all;
    /* what does not apply is null: no SLO, no rate in a closed loop */
    char slo_ms[32] = "null", slo_frac[32] = "null", rate[32] = "null";
    if (p->slo_s > 0) snprintf(slo_ms, sizeof slo_ms, "%.3f", p->slo_s * 1e3), snprintf(slo_frac, sizeof slo_frac, "%.5f", slo_attained(p));
    if (p->open_loop) snprintf(rate, sizeof rate, "%.3f", p->rate);
    fprintf(f,
            "{\"mode\":\"%s\",\"arrival\":\"%s\",\"rate\":%s,\"threads\":%d,\"connections\":%d,\"window_s\":%.3f,"
            "\"due\":%llu,\"sent\":%llu,\"ok\":%llu,\"http_errors\":%llu,\"io_errors\":%llu,\"timeouts\":%llu,\"unsent\":%llu,"
            "\"achieved_per_s\":%.3f,\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f},"
            "\"slo_ms\":%s,\"slo_attainment\":%s,\"send_lag_us\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
            p->open_loop ? "open" : "closed", p->poisson ? "poisson" : "constant", rate, p->threads, p->connections,
            p->window_s, (unsigned long long)a->due, (unsigned long long)a->sent, (unsigned long long)a->ok,
            (unsigned long long)a->http_errors, (unsigned long long)a->io_errors, (unsigned long long)a->timeouts,
            (unsigned long long)a->unsent, achieved(p), q_ms(p, 0.5), q_ms(p, 0.9), q_ms(p, 0.95), q_ms(p, 0.99),
            q_ms(p, 0.999), max_ms(p), slo_ms, slo_frac, (double)lat_hist_quantile(&a->send_late, 0.5) * 1e-3,
            (double)lat_hist_quantile(&a->send_late, 0.99) * 1e-3, (double)a->send_late.max * 1e-3 * (a->send_late.count > 0));
}

void lg_report_csv_header(FILE *f, int open_loop)
{
    fprintf(f, "%s,Inferences/Second,Requests/Second,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,Errors\n",
            open_loop ? "Request Rate" : "Concurrency");
}

void lg_report_csv_row(FILE *f, const lg_point *p)
{
    if (p->open_loop) fprintf(f, "%g,", p->rate);
    else fprintf(f, "%d,", p->connections);
    fprintf(f, "%.2f,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%llu\n", achieved(p) * p->batch, achieved(p), q_ms(p, 0.5) * 1e3,
            q_ms(p, 0.9) * 1e3, q_ms(p, 0.95) * 1e3, q_ms(p, 0.99) * 1e3, mean_ms(p) * 1e3,
            (unsigned long long)lg_point_errors(p));
}
