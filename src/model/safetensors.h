/* Reading and writing safetensors: 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
 * raw little-endian tensor data. Every offset and size is validated. */
#ifndef GK_SAFETENSORS_H
#define GK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"

#define GK_ST_MAX_DIMS 8

typedef enum gk_dtype {
    GK_DT_F32 = 0, GK_DT_F16, GK_DT_BF16, GK_DT_F64, GK_DT_I64, GK_DT_I32,
    GK_DT_I16, GK_DT_I8, GK_DT_U8, GK_DT_BOOL, GK_DT_OTHER
} gk_dtype;

typedef struct gk_st_tensor {
    char *name;                      /* owned by the gk_st_file        */
    gk_dtype dtype;
    const char *dtype_name;          /* as in the file ("U32"), static:
                                        GK_DT_OTHER covers several      */
    int ndim;
    int64_t shape[GK_ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const uint8_t *data;             /* points into the parsed buffer  */
} gk_st_tensor;

typedef struct gk_st_file {
    gk_st_tensor *tensors;
    size_t count;
    char *graphkern_metadata;        /* __metadata__["graphkern"] or NULL */
} gk_st_file;

/* Parse buf (not copied: tensors point into it, keep it alive). */
gk_status gk_st_parse(const uint8_t *buf, size_t size, gk_st_file *out,
                      gk_error *err);
void gk_st_free(gk_st_file *file);

const gk_st_tensor *gk_st_find(const gk_st_file *file, const char *name);
const char *gk_dtype_name(gk_dtype dtype);
size_t gk_dtype_size(gk_dtype dtype);

/* Read a whole regular file into a new buffer (free with gk_free).
 * GK_EIO naming the path and the system's reason. */
gk_status gk_read_file(const char *path, uint8_t **buf, size_t *size,
                       gk_error *err);

/* Convert tensor t to float32 into dst[t->numel] (F32/F16/BF16/F64 allowed;
 * GK_EDTYPE otherwise). Unaligned source data is fine. */
gk_status gk_st_to_f32(const gk_st_tensor *t, float *dst, gk_error *err);

/* A tensor to write. */
typedef struct gk_st_out {
    const char *name;
    gk_dtype dtype;
    int ndim;
    int64_t shape[GK_ST_MAX_DIMS];
    const void *data;
} gk_st_out;

/* Serialize tensors (and an optional __metadata__ {"graphkern": metadata})
 * into a new buffer (*buf, *size; free with gk_free). Tensors are laid out
 * in the order given; the header is padded with spaces to a multiple of 8
 * bytes as the reference implementation does. GK_EINVAL for a NULL or
 * "__metadata__" or repeated name, a dtype without a size (GK_DT_OTHER), a
 * negative dim or NULL data; GK_EOVERFLOW if sizes overflow. */
gk_status gk_st_serialize(const gk_st_out *tensors, size_t count,
                          const char *metadata, uint8_t **buf, size_t *size,
                          gk_error *err);

/* Write tensors (and an optional __metadata__ {"graphkern": metadata}). */
gk_status gk_st_write_file(const char *path, const gk_st_out *tensors,
                           size_t count, const char *metadata, gk_error *err);

#endif
