/* GK_PER_ISA: build a loop-heavy function once per x86 level (GCC's
 * target_clones) so its loops vectorize with AVX-512 or AVX2 where the CPU
 * has them; an ifunc resolver picks one at load time. GCC on x86-64 only,
 * and never under clang or a sanitizer: the resolver runs before the
 * sanitizer's runtime is up (clang's TSan build crashed in it at start).
 * Elsewhere it expands to nothing. */
#ifndef GK_PER_ISA_H
#define GK_PER_ISA_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define GK_PER_ISA __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GK_PER_ISA
#endif

#endif
