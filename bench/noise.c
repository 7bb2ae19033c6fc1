/* The machine's own tail (`graphkern bench --noise-floor`): a fixed piece of
 * arithmetic calibrated to last as long as the inference just measured (its
 * p50), timed the same number of times in the same way (clock_gettime around
 * each run, same pinned CPU). It touches no memory beyond a few registers,
 * calls nothing and makes no system call, so whatever tail it has comes from
 * outside the program: timer and other interrupts, the hypervisor taking the
 * vCPU, other processes on the core. An inference whose p99.9 / p50 is close
 * to this probe's has no tail of its own to remove.
 *
 * It also counts the local timer interrupts of the CPU it ran on
 * (/proc/interrupts, row LOC) over its loop: their rate times the p50 is the
 * share of runs that one of them lands in. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* `iters` dependent multiply-adds: a fixed amount of core-only work. */
static double spin(long iters, double seed) {
    double x = seed;
    for (long k = 0; k < iters; k++) x = x * 0.999999 + 1e-9;
    return x;
}

/* Local timer interrupts taken so far by `cpu`, or -1. */
static long timer_interrupts(int cpu) {
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f) return -1;
    char line[4096];
    long found = -1;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ') p++;
        if (strncmp(p, "LOC:", 4) != 0) continue;
        p += 4;
        for (int c = 0; c <= cpu; c++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) break;
            if (c == cpu) found = v;
            p = end;
        }
        break;
    }
    fclose(f);
    return found;
}

static volatile double sink;

int bench_noise_floor(double target_us, size_t runs, bench_noise *out) {
    memset(out, 0, sizeof *out);
    uint64_t *ns = malloc(runs * sizeof *ns);
    if (!ns || runs == 0) {
        free(ns);
        return 1;
    }
    memset(ns, 0xff, runs * sizeof *ns);  /* touched before timing */
    long iters = 1000;  /* calibrate: the median of 101 runs near target_us */
    for (int round = 0; round < 6; round++) {
        uint64_t t[101];
        for (int k = 0; k < 101; k++) {
            uint64_t t0 = now_ns();
            sink = spin(iters, (double)k);
            t[k] = now_ns() - t0;
        }
        bench_stats s;
        bench_stats_compute(t, 101, &s);
        if (s.p50 <= 0) break;
        iters = (long)((double)iters * target_us / s.p50);
        if (iters < 1) iters = 1;
    }
    int cpu = sched_getcpu();
    long loc0 = timer_interrupts(cpu);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    uint64_t wall0 = now_ns();
    for (size_t k = 0; k < runs; k++) {
        uint64_t t0 = now_ns();
        sink = spin(iters, (double)k);
        ns[k] = now_ns() - t0;
    }
    double seconds = (double)(now_ns() - wall0) * 1e-9;
    getrusage(RUSAGE_SELF, &r1);
    long loc1 = timer_interrupts(cpu);
    bench_stats_compute(ns, runs, &out->stats);
    out->cpu = cpu;
    out->timer_per_s = loc0 >= 0 && loc1 >= loc0 ? (double)(loc1 - loc0) / seconds : -1.0;
    out->context_switches = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw);
    free(ns);
    return 0;
}
