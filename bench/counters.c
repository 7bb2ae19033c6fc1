/* Counters around the measured loop, without touching malloc:
 *   page faults        getrusage minor + major faults (delta)
 *   context switches   getrusage voluntary + involuntary (delta)
 *   heap growth        glibc mallinfo2(): bytes in use in the arenas
 *                      (uordblks) + bytes in mmapped chunks (hblkhd), delta.
 *                      This sees any allocation still live at the end of
 *                      the loop, not a malloc freed inside it; the zero-
 *                      malloc rule itself is proven by tests/test_hot_path
 *                      (malloc interposed, strict seccomp).
 *   peak RSS           VmHWM from /proc/self/status, after resetting it to
 *                      the current RSS (write "5" to /proc/self/clear_refs,
 *                      Linux >= 4.0) before each configuration. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

void bench_counters_read(bench_counters *out) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    out->minor_faults = ru.ru_minflt;
    out->major_faults = ru.ru_majflt;
    out->voluntary_cs = (int)ru.ru_nvcsw;
    out->involuntary_cs = (int)ru.ru_nivcsw;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 mi = mallinfo2();
    out->heap_bytes = (long long)(mi.uordblks + mi.hblkhd);
    out->heap_chunks = (long long)mi.hblks;
#else
    out->heap_bytes = 0;
    out->heap_chunks = 0;
#endif
}

int bench_reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

double bench_peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) sscanf(line + 6, "%ld", &kb);
    if (f) fclose(f);
    if (kb < 0) {   /* no /proc: the process peak */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return (double)kb / 1024.0;
}
