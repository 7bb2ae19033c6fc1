/* What this CPU and OS can run: the features codegen/isas.toml's `cpu`
 * lists name (GK_CPU_<feature>), and the architecture the library was
 * built for (GK_ARCH_<arch>). Read once per plan by the selector. */
#ifndef GK_CPU_H
#define GK_CPU_H

enum {
    GK_CPU_AVX2 = 1u << 0,      /* with OS-enabled YMM state */
    GK_CPU_FMA = 1u << 1,
    GK_CPU_AVX512F = 1u << 2,   /* with OS-enabled opmask/ZMM state */
    GK_CPU_AVX512VL = 1u << 3,
    GK_CPU_AVX512DQ = 1u << 4,
    GK_CPU_AVX512BW = 1u << 5,
    GK_CPU_ASIMD = 1u << 6      /* AArch64 Advanced SIMD (NEON): baseline */
};

typedef enum gk_arch { GK_ARCH_ANY, GK_ARCH_X86_64, GK_ARCH_AARCH64 } gk_arch;

/* The GK_CPU_* bits of this CPU and OS. */
unsigned gk_cpu_features(void);

/* The architecture this library was compiled for (GK_ARCH_ANY: another). */
gk_arch gk_build_arch(void);

#endif
