/* The registry of generated kernels: generated/gk_registry.inc expanded
 * once into prototypes and once into tables. */
#include "registry.h"

#define GK_PROTO(fn) void fn(const gk_layer_run *run, size_t begin, size_t end);
#define GK_TRANSFORM(isa, ts, fn) GK_PROTO(fn)
#define GK_AGG(isa, h, c, d, cc, prep, fn) GK_PROTO(prep) GK_PROTO(fn)
#define GK_COMPLETE(isa, h, c, cc, prep, fn) GK_PROTO(prep) GK_PROTO(fn)
#define GK_GATV2_AGG(isa, h, c, d, cc, fn) GK_PROTO(fn)
#include "gk_registry.inc"

const gk_reg_transform gk_reg_transforms[] = {
#define GK_TRANSFORM(isa, ts, fn) {GK_ISA_##isa, ts, #fn, fn},
#include "gk_registry.inc"
    {GK_ISA_GENERIC, 0, NULL, NULL}};
const size_t gk_reg_num_transforms =
    sizeof gk_reg_transforms / sizeof gk_reg_transforms[0] - 1;

const gk_reg_agg gk_reg_aggs[] = {
#define GK_AGG(isa, h, c, d, cc, prep, fn) {GK_ISA_##isa, h, c, d, cc, #prep, prep, #fn, fn},
#include "gk_registry.inc"
    {GK_ISA_GENERIC, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};
const size_t gk_reg_num_aggs = sizeof gk_reg_aggs / sizeof gk_reg_aggs[0] - 1;

const gk_reg_complete gk_reg_completes[] = {
#define GK_COMPLETE(isa, h, c, cc, prep, fn) {GK_ISA_##isa, h, c, cc, #prep, prep, #fn, fn},
#include "gk_registry.inc"
    {GK_ISA_GENERIC, 0, 0, 0, NULL, NULL, NULL, NULL}};
const size_t gk_reg_num_completes =
    sizeof gk_reg_completes / sizeof gk_reg_completes[0] - 1;

const gk_reg_gatv2 gk_reg_gatv2s[] = {
#define GK_GATV2_AGG(isa, h, c, d, cc, fn) {GK_ISA_##isa, h, c, d, cc, #fn, fn},
#include "gk_registry.inc"
    {GK_ISA_GENERIC, 0, 0, 0, 0, NULL, NULL}};
const size_t gk_reg_num_gatv2s = sizeof gk_reg_gatv2s / sizeof gk_reg_gatv2s[0] - 1;

const gk_reg_transform *gk_reg_find_transform(gk_isa isa, int t_stride) {
    for (size_t i = 0; i < gk_reg_num_transforms; i++) {
        const gk_reg_transform *r = &gk_reg_transforms[i];
        if (r->isa == isa && r->t_stride == t_stride) return r;
    }
    return NULL;
}

const gk_reg_agg *gk_reg_find_agg(gk_isa isa, int heads, int channels,
                                  int edge_dim, int concat) {
    for (size_t i = 0; i < gk_reg_num_aggs; i++) {
        const gk_reg_agg *r = &gk_reg_aggs[i];
        if (r->isa == isa && r->heads == heads && r->channels == channels &&
            r->edge_dim == edge_dim && r->concat == concat)
            return r;
    }
    return NULL;
}

const gk_reg_complete *gk_reg_find_complete(gk_isa isa, int heads, int channels,
                                            int concat) {
    for (size_t i = 0; i < gk_reg_num_completes; i++) {
        const gk_reg_complete *r = &gk_reg_completes[i];
        if (r->isa == isa && r->heads == heads && r->channels == channels &&
            r->concat == concat)
            return r;
    }
    return NULL;
}

const gk_reg_gatv2 *gk_reg_find_gatv2(gk_isa isa, int heads, int channels,
                                      int edge_dim, int concat) {
    for (size_t i = 0; i < gk_reg_num_gatv2s; i++) {
        const gk_reg_gatv2 *r = &gk_reg_gatv2s[i];
        if (r->isa == isa && r->heads == heads && r->channels == channels &&
            r->edge_dim == edge_dim && r->concat == concat)
            return r;
    }
    return NULL;
}
