/* CPU feature detection: cpuid + xgetbv on x86-64 (a feature counts only
 * when the OS saves its registers), nothing on AArch64 (Advanced SIMD is
 * part of every AArch64 CPU). A new ISA's new feature is a bit in cpu.h
 * and its test here. */
#include "cpu.h"

#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if defined(__x86_64__)
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned x86_features(void) {
    unsigned a, b, c, d, out = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;            /* XMM and YMM state */
    if ((c >> 12) & 1) out |= GK_CPU_FMA;
    if (__get_cpuid_max(0, NULL) < 7) return out;
    __cpuid_count(7, 0, a, b, c, d);
    if ((b >> 5) & 1) out |= GK_CPU_AVX2;
    if ((xcr0 & 0xe0) != 0xe0) return out;        /* opmask, ZMM state */
    if ((b >> 16) & 1) out |= GK_CPU_AVX512F;
    if ((b >> 17) & 1) out |= GK_CPU_AVX512DQ;
    if ((b >> 30) & 1) out |= GK_CPU_AVX512BW;
    if ((b >> 31) & 1) out |= GK_CPU_AVX512VL;
    return out;
}
#endif

unsigned gk_cpu_features(void) {
#if defined(__x86_64__)
    return x86_features();
#elif defined(__aarch64__)
    return GK_CPU_ASIMD;
#else
    return 0;
#endif
}

gk_arch gk_build_arch(void) {
#if defined(__x86_64__)
    return GK_ARCH_X86_64;
#elif defined(__aarch64__)
    return GK_ARCH_AARCH64;
#else
    return GK_ARCH_ANY;
#endif
}
