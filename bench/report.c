/* Output: the human table (one row per configuration), text histograms,
 * JSON lines (docs/performance.md fields first) and an SVG of the latency
 * distributions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void cpu_model(char *buf, size_t size) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    snprintf(buf, size, "unknown CPU");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *v = strchr(line, ':');
        if (!v) break;
        v += v[1] == ' ' ? 2 : 1;
        v[strcspn(v, "\n")] = '\0';
        snprintf(buf, size, "%s", v);
        break;
    }
    if (f) fclose(f);
}

void bench_print_header(FILE *to, const bench_peak *peak, int cpu) {
    char model[128];
    cpu_model(model, sizeof model);
    fprintf(to, "graphkern bench on %s", model);
    if (cpu >= 0) fprintf(to, ", pinned to CPU %d", cpu);
    if (peak->neon_gflops > 0)
        fprintf(to, "\nFMA peak per core (measured): neon %.1f, scalar %.1f GFLOP/s; "
                    "%%peak is of %s\n", peak->neon_gflops, peak->scalar_gflops,
                peak->best_isa);
    else
        fprintf(to, "\nFMA peak per core (measured): avx512 %.1f, avx2 %.1f, scalar %.1f "
                    "GFLOP/s; %%peak is of %s\n",
                peak->avx512_gflops, peak->avx2_gflops, peak->scalar_gflops,
                peak->best_isa);
    /* a kernel that does less work than the direct algorithm (complete
     * graphs: sorted prefix sums) reads above 100: say so where it shows */
    fprintf(to, "GFLOP/s and %%peak count the direct algorithm's FLOPs; above 100 "
                "means the kernel needed fewer (docs/performance.md)\n\n");
    fprintf(to, "%-19s %5s %7s %-14s %-7s %3s %6s %9s %9s %9s %9s %9s %9s %9s %7s %6s "
                "%7s %6s %6s\n",
            "scenario", "N", "E", "path", "isa", "thr", "runs", "p50_us", "best20_us", "p90_us",
            "p99_us", "p99.9_us", "max_us", "graphs/s", "GFLOP/s", "%peak", "rss_MB",
            "heapΔ", "faults");
}

void bench_print_row(FILE *to, const bench_result *r) {
    const bench_stats *s = &r->stats;
    if (r->scenario->kind == BENCH_TICK) {  /* no FLOP count, no loop counters */
        fprintf(to, "%-19s %5zu %7zu %-14s %-7s %3d %6zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f "
                    "%9.0f %7s %6s %7.1f %6s %6s\n",
                r->scenario->name, r->nodes, r->edges, r->path, r->isa, r->threads,
                s->runs, s->p50, s->best_batch, s->p90, s->p99, s->p999, s->max, r->graphs_per_s, "-",
                "-", r->peak_rss_mb, "-", "-");
        return;
    }
    fprintf(to, "%-19s %5zu %7zu %-14s %-7s %3d %6zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f "
                "%9.0f %7.2f %6.1f %7.1f %6lld %6ld\n",
            r->scenario->name, r->nodes, r->edges, r->path, r->isa, r->threads, s->runs,
            s->p50, s->best_batch, s->p90, s->p99, s->p999, s->max, r->graphs_per_s, r->gflops,
            r->pct_of_peak, r->peak_rss_mb, r->heap_delta_bytes, r->page_faults);
}

void bench_print_json(FILE *to, const bench_result *r, const bench_peak *peak) {
    const bench_stats *s = &r->stats;
    if (r->scenario->kind == BENCH_TICK) {
        /* graphs_per_s = ticks/s; no FLOP count (a tick is more than the
         * GAT) and no heap/fault/switch counters (the loop is tick.c's). */
        fprintf(to,
                "{\"scenario\":\"%s\",\"nodes\":%zu,\"edges\":%zu,\"path\":\"%s\","
                "\"isa\":\"%s\",\"threads\":%d,\"p50_us\":%.3f,\"p99_us\":%.3f,"
                "\"p999_us\":%.3f,\"graphs_per_s\":%.1f,\"peak_rss_mb\":%.2f,"
                "\"gflops\":0,\"pct_of_peak\":0,"
                "\"gflops_note\":\"not counted: a tick is push + graph rebuild + inference\","
                "\"kernel\":\"%s\",\"edge_dim\":%d,\"runs\":%zu,\"ticks\":%zu,"
                "\"warmup\":0,\"window\":256,\"top_k\":%d,"
                "\"p90_us\":%.3f,\"max_us\":%.3f,\"min_us\":%.3f,\"mean_us\":%.3f,"
                "\"best20_us\":%.3f,\"cpu_p50_us\":%.3f,\"cpu_p99_us\":%.3f,"
                "\"peak_gflops\":%.3f,\"peak_isa\":\"%s\",\"rss_scope\":\"%s\","
                "\"cpu\":%d}\n",
                r->scenario->name, r->nodes, r->edges, r->path, r->isa, r->threads, s->p50,
                s->p99, s->p999, r->graphs_per_s, r->peak_rss_mb, r->kernel,
                r->scenario->edge_dim, s->runs, s->runs, r->scenario->k, s->p90, s->max,
                s->min, s->mean, s->best_batch, r->cpu_p50_us, r->cpu_p99_us, peak->best_gflops,
                peak->best_isa, r->rss_reset ? "configuration" : "process", r->cpu);
        fflush(to);
        return;
    }
    fprintf(to,
            "{\"scenario\":\"%s\",\"nodes\":%zu,\"edges\":%zu,\"path\":\"%s\","
            "\"isa\":\"%s\",\"threads\":%d,\"p50_us\":%.3f,\"p99_us\":%.3f,"
            "\"p999_us\":%.3f,\"graphs_per_s\":%.1f,\"peak_rss_mb\":%.2f,"
            "\"gflops\":%.4f,\"pct_of_peak\":%.3f,"
            "\"kernel\":\"%s\",\"edge_dim\":%d,\"runs\":%zu,\"warmup\":%zu,"
            "\"p90_us\":%.3f,\"max_us\":%.3f,\"min_us\":%.3f,\"mean_us\":%.3f,"
            "\"best20_us\":%.3f,\"flops\":%.0f,\"peak_gflops\":%.3f,\"peak_isa\":\"%s\","
            "\"rss_scope\":\"%s\",\"heap_delta_bytes\":%lld,"
            "\"heap_mmap_chunks_delta\":%lld,\"page_faults\":%ld,"
            "\"context_switches\":%ld,\"cpu\":%d}\n",
            r->scenario->name, r->nodes, r->edges, r->path, r->isa, r->threads, s->p50,
            s->p99, s->p999, r->graphs_per_s, r->peak_rss_mb, r->gflops,
            r->pct_of_peak, r->kernel, r->scenario->edge_dim, s->runs, r->warmup,
            s->p90, s->max, s->min, s->mean, s->best_batch, r->flops, peak->best_gflops,
            peak->best_isa, r->rss_reset ? "configuration" : "process",
            r->heap_delta_bytes, r->heap_chunks_delta, r->page_faults,
            r->context_switches, r->cpu);
    fflush(to);
}

/* Shared range of a scenario's configurations: fastest run to the slowest
 * p99.9 (slower runs land in the last bin). */
static void common_range(const bench_result *r, int count, double *lo, double *hi) {
    *lo = r[0].stats.min;
    *hi = r[0].stats.p999;
    for (int k = 1; k < count; k++) {
        if (r[k].stats.min < *lo) *lo = r[k].stats.min;
        if (r[k].stats.p999 > *hi) *hi = r[k].stats.p999;
    }
}

void bench_print_hist(FILE *to, const bench_result *r, int count) {
    enum { BAR = 28 };
    if (count <= 0 || !r[0].stats.runs) return;
    double lo, hi;
    common_range(r, count, &lo, &hi);
    bench_hist h[8];
    if (count > 8) count = 8;
    size_t peak = 1;
    for (int k = 0; k < count; k++) {
        bench_hist_fill(&h[k], lo, hi, r[k].ns, r[k].stats.runs);
        for (int b = 0; b < BENCH_HIST_BINS; b++)
            if (h[k].count[b] * 1000 / r[k].stats.runs > peak)
                peak = h[k].count[b] * 1000 / r[k].stats.runs;
    }
    fprintf(to, "  latency histogram, %s (bar = share of runs):\n  %-19s",
            r[0].scenario->name, "us");
    for (int k = 0; k < count; k++) {
        char label[48];
        snprintf(label, sizeof label, "%s/%s t%d", r[k].path, r[k].isa, r[k].threads);
        fprintf(to, " %-*s", BAR + 7, label);
    }
    fputc('\n', to);
    for (int b = 0; b < BENCH_HIST_BINS; b++) {
        char range[32];
        if (b == BENCH_HIST_BINS - 1)
            snprintf(range, sizeof range, ">= %.1f", bench_hist_edge(&h[0], b));
        else
            snprintf(range, sizeof range, "%.1f-%.1f", bench_hist_edge(&h[0], b),
                     bench_hist_edge(&h[0], b + 1));
        fprintf(to, "  %-19s", range);
        for (int k = 0; k < count; k++) {
            size_t permille = h[k].count[b] * 1000 / r[k].stats.runs;
            int len = (int)((permille * BAR + peak - 1) / peak);
            if (h[k].count[b] && len == 0) len = 1;
            char bar[BAR + 1];
            memset(bar, '#', (size_t)len);
            bar[len] = '\0';
            fprintf(to, " %-*s %5.1f%%", BAR, bar,
                    100.0 * (double)h[k].count[b] / (double)r[k].stats.runs);
        }
        fputc('\n', to);
    }
    fputc('\n', to);
}

/* ---- SVG: one panel per scenario, density over log latency ------------- */

enum { SVG_W = 820, PANEL_H = 230, SVG_BINS = 60, PLOT_X = 70, PLOT_W = 560 };

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static double svg_x(double us, double lo, double hi) {
    return PLOT_X + PLOT_W * log(us / lo) / log(hi / lo);
}

static void svg_axis(FILE *f, double top, double lo, double hi, const char *per) {
    double bottom = top + PANEL_H - 60;
    fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='black'/>\n", PLOT_X,
            bottom, PLOT_X + PLOT_W, bottom);
    static const double steps[] = {1, 2, 5};
    for (double dec = pow(10, floor(log10(lo))); dec <= hi; dec *= 10)
        for (int s = 0; s < 3; s++) {
            double v = dec * steps[s];
            if (v < lo || v > hi) continue;
            double x = svg_x(v, lo, hi);
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ccc'/>\n"
                       "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%g"
                       "</text>\n", x, top + 20, x, bottom, x, bottom + 14, v);
        }
    fprintf(f, "<text x='%d' y='%.1f' font-size='11' text-anchor='middle'>latency per "
               "%s (us, log scale)</text>\n", PLOT_X + PLOT_W / 2, bottom + 30, per);
}

static void svg_panel(FILE *f, const bench_result *r, int count, double top) {
    double lo, hi;
    common_range(r, count, &lo, &hi);
    for (int k = 0; k < count; k++) if (r[k].stats.max > hi) hi = r[k].stats.max;
    lo *= 0.95;
    hi *= 1.05;
    double bottom = top + PANEL_H - 60, height = PANEL_H - 90;
    fprintf(f, "<text x='%d' y='%.1f' font-size='14' font-weight='bold'>%s (%zu nodes, "
               "%zu edges)</text>\n", PLOT_X, top + 14, r[0].scenario->name, r[0].nodes,
            r[0].edges);
    svg_axis(f, top, lo, hi, r[0].scenario->kind == BENCH_TICK ? "tick" : "inference");
    double dens[8][SVG_BINS], top_dens = 1e-12;
    for (int k = 0; k < count && k < 8; k++) {
        memset(dens[k], 0, sizeof dens[k]);
        for (size_t i = 0; i < r[k].stats.runs; i++) {
            double us = (double)r[k].ns[i] * 1e-3;
            int b = (int)(SVG_BINS * log(us / lo) / log(hi / lo));
            dens[k][b < 0 ? 0 : b >= SVG_BINS ? SVG_BINS - 1 : b] += 1.0 / (double)r[k].stats.runs;
        }
        for (int b = 0; b < SVG_BINS; b++) if (dens[k][b] > top_dens) top_dens = dens[k][b];
    }
    for (int k = 0; k < count && k < 8; k++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", colors[k]);
        for (int b = 0; b < SVG_BINS; b++) {
            double x0 = PLOT_X + (double)PLOT_W * b / SVG_BINS;
            double x1 = PLOT_X + (double)PLOT_W * (b + 1) / SVG_BINS;
            double y = bottom - height * dens[k][b] / top_dens;
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", x0, y, x1, y);
        }
        fprintf(f, "'/>\n");
        double p50 = svg_x(r[k].stats.p50, lo, hi), p99 = svg_x(r[k].stats.p99, lo, hi);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                   "stroke-dasharray='4 3'/>\n<line x1='%.1f' y1='%.1f' x2='%.1f' "
                   "y2='%.1f' stroke='%s' stroke-dasharray='1 3'/>\n",
                p50, top + 20, p50, bottom, colors[k], p99, top + 20, p99, bottom,
                colors[k]);
        fprintf(f, "<text x='%d' y='%.1f' font-size='11' fill='%s'>%s %s t%d: p50 %.1f, "
                   "p99 %.1f us</text>\n", PLOT_X + PLOT_W + 10, top + 34 + 16.0 * k,
                colors[k], r[k].path, r[k].isa, r[k].threads, r[k].stats.p50,
                r[k].stats.p99);
    }
    fprintf(f, "<text x='%d' y='%.1f' font-size='10' fill='#555'>dashed: p50, dotted: "
               "p99</text>\n", PLOT_X + PLOT_W + 10, top + 34 + 16.0 * (count + 0.5));
}

int bench_write_svg(const char *path, const bench_result *r, int count) {
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    int panels = 0;
    for (int k = 0; k < count; k++)
        if (k == 0 || r[k].scenario != r[k - 1].scenario) panels++;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' "
               "fill='white'/>\n", SVG_W, PANEL_H * panels + 10);
    int panel = 0;
    for (int k = 0; k < count;) {
        int end = k + 1;
        while (end < count && r[end].scenario == r[k].scenario) end++;
        if (r[k].stats.runs) svg_panel(f, r + k, end - k, 10.0 + PANEL_H * panel);
        panel++;
        k = end;
    }
    fprintf(f, "</svg>\n");
    return fclose(f) != 0;
}
