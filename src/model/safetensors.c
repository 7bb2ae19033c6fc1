/* Parsing safetensors files and converting their tensors to float32.
 *
 * The header is untrusted: every field is checked before any pointer into
 * the data section is formed. Status codes (each message names the tensor):
 *   GK_EFORMAT      short file, header length past EOF or above 100 MB,
 *                   header not an object, an entry without dtype / shape /
 *                   data_offsets, with another key, or with the wrong JSON
 *                   type, a key given
 *                   twice in one object (tensor names included),
 *                   __metadata__ not an object of strings
 *   GK_EJSON        header is not JSON
 *   GK_EUNSUPPORTED unknown dtype string
 *   GK_ESHAPE       a dim negative, not an integer, or more than 8 dims
 *   GK_EOVERFLOW    numel * dtype size does not fit size_t
 *   GK_EOFFSET      data_offsets not [begin, end] with begin <= end <= data
 *                   size, end - begin != the shape's byte count, or the
 *                   tensors not covering the data exactly (an overlap, a
 *                   hole, bytes after the last tensor)
 *
 * A shape that disagrees with its byte range is reported as GK_EOFFSET, not
 * GK_ESHAPE: it is the file's own bookkeeping that is inconsistent, and
 * GK_ESHAPE is kept for "a tensor has a shape the model did not expect". */
#include "safetensors.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "did_you_mean.h"
#include "error.h"
#include "json_parse.h"
#include "model.h"

/* The reference implementation refuses headers above 100 MB, so do we: it
 * bounds the work an adversarial file can ask of the JSON parser. */
#define GK_ST_MAX_HEADER ((uint64_t)100000000)

/* ---- dtypes ------------------------------------------------------------ */

typedef struct dtype_entry {
    const char *name;
    gk_dtype dtype;
    size_t size;
} dtype_entry;

/* Dtypes with no gk_dtype of their own still parse (as GK_DT_OTHER), so a
 * file holding, say, a U32 tensor next to the weights stays readable. */
static const dtype_entry dtype_table[] = {
    {"F32", GK_DT_F32, 4},   {"F16", GK_DT_F16, 2},   {"BF16", GK_DT_BF16, 2},
    {"F64", GK_DT_F64, 8},   {"I64", GK_DT_I64, 8},   {"I32", GK_DT_I32, 4},
    {"I16", GK_DT_I16, 2},   {"I8", GK_DT_I8, 1},     {"U8", GK_DT_U8, 1},
    {"BOOL", GK_DT_BOOL, 1}, {"U16", GK_DT_OTHER, 2}, {"U32", GK_DT_OTHER, 4},
    {"U64", GK_DT_OTHER, 8}, {"F8_E4M3", GK_DT_OTHER, 1},
    {"F8_E5M2", GK_DT_OTHER, 1},
};
#define DTYPE_COUNT (sizeof dtype_table / sizeof dtype_table[0])

static const dtype_entry *dtype_by_name(const char *name) {
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (strcmp(dtype_table[i].name, name) == 0) return &dtype_table[i];
    return NULL;
}

const char *gk_dtype_name(gk_dtype dtype) {
    if (dtype == GK_DT_OTHER) return "OTHER";
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype) return dtype_table[i].name;
    return "?";
}

size_t gk_dtype_size(gk_dtype dtype) {
    if (dtype == GK_DT_OTHER) return 0;
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype) return dtype_table[i].size;
    return 0;
}

/* ---- small JSON helpers ------------------------------------------------ */

/* A JSON number that is an integer in [0, max]; doubles hold integers
 * exactly up to 2^53, far above any size a valid file can carry. */
static int json_to_index(const json_t *item, double max, uint64_t *out) {
    if (!json_is_number(item)) return 0;
    double v = json_number_value(item);
    if (!(v >= 0.0) || v > max || v != floor(v)) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* ---- one header entry -------------------------------------------------- */

static gk_status parse_shape(const json_t *shape, gk_st_tensor *t,
                             gk_error *err) {
    if (!json_is_array(shape))
        return gk_fail(err, GK_EFORMAT, "tensor '%s': shape is not an array",
                       t->name);
    size_t ndim = json_array_size(shape);
    if (ndim > GK_ST_MAX_DIMS)
        return gk_fail(err, GK_ESHAPE, "tensor '%s': %zu dims, at most %d",
                       t->name, ndim, GK_ST_MAX_DIMS);
    t->ndim = (int)ndim;
    int d = 0;
    size_t i;
    const json_t *dim;
    json_array_foreach(shape, i, dim) {
        uint64_t v;
        if (!json_to_index(dim, 9.0e18, &v))
            return gk_fail(err, GK_ESHAPE,
                           "tensor '%s': dim %d is not a non-negative integer",
                           t->name, d);
        t->shape[d++] = (int64_t)v;
    }
    return GK_OK;
}

/* numel and nbytes from the shape, refusing any product that overflows. */
static gk_status compute_sizes(gk_st_tensor *t, size_t elem_size,
                               gk_error *err) {
    size_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t dim = (uint64_t)t->shape[d];
        if (dim != 0 && numel > SIZE_MAX / dim)
            return gk_fail(err, GK_EOVERFLOW,
                           "tensor '%s': element count overflows", t->name);
        numel *= (size_t)dim;
    }
    if (numel > SIZE_MAX / elem_size)
        return gk_fail(err, GK_EOVERFLOW, "tensor '%s': byte size overflows",
                       t->name);
    t->numel = numel;
    t->nbytes = numel * elem_size;
    return GK_OK;
}

static gk_status parse_offsets(const json_t *offsets, const uint8_t *data,
                               size_t data_size, gk_st_tensor *t,
                               gk_error *err) {
    if (!json_is_array(offsets))
        return gk_fail(err, GK_EFORMAT,
                       "tensor '%s': data_offsets is not an array", t->name);
    uint64_t begin, end;
    if (json_array_size(offsets) != 2 ||
        !json_to_index(json_array_get(offsets, 0), 9.0e18, &begin) ||
        !json_to_index(json_array_get(offsets, 1), 9.0e18, &end))
        return gk_fail(err, GK_EOFFSET,
                       "tensor '%s': data_offsets is not [begin, end] with "
                       "non-negative integers", t->name);
    if (begin > end || end > data_size)
        return gk_fail(err, GK_EOFFSET,
                       "tensor '%s': data_offsets [%llu, %llu] outside the "
                       "%zu data bytes", t->name, (unsigned long long)begin,
                       (unsigned long long)end, data_size);
    if (end - begin != t->nbytes)
        return gk_fail(err, GK_EOFFSET,
                       "tensor '%s': data_offsets span %llu bytes, its shape "
                       "and dtype need %zu", t->name,
                       (unsigned long long)(end - begin), t->nbytes);
    t->data = data + begin;
    return GK_OK;
}

/* An entry has exactly these keys: anything else is a typo or a writer
 * that means something this reader would ignore. */
static const char *const entry_keys[] = {"dtype", "shape", "data_offsets"};

static gk_status check_entry_keys(const json_t *entry, const gk_st_tensor *t,
                                  gk_error *err) {
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)entry, key, value) {
        if (!strcmp(key, "dtype") || !strcmp(key, "shape") ||
            !strcmp(key, "data_offsets"))
            continue;
        const char *near = gk_closest_name(key, entry_keys, 3);
        return gk_fail(err, GK_EFORMAT, "tensor '%s': unknown key '%s'%s%s%s",
                       t->name, key, near ? " (did you mean '" : "",
                       near ? near : "", near ? "'?)" : "");
    }
    return GK_OK;
}

static gk_status parse_entry(const json_t *entry, const uint8_t *data,
                             size_t data_size, gk_st_tensor *t,
                             gk_error *err) {
    if (!json_is_object(entry))
        return gk_fail(err, GK_EFORMAT, "tensor '%s': entry is not an object",
                       t->name);
    gk_status st = check_entry_keys(entry, t, err);
    if (st != GK_OK) return st;
    const json_t *dtype = json_object_get(entry, "dtype");
    const json_t *shape = json_object_get(entry, "shape");
    const json_t *offsets = json_object_get(entry, "data_offsets");
    if (!dtype || !shape || !offsets)
        return gk_fail(err, GK_EFORMAT, "tensor '%s': missing %s", t->name,
                       !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!json_is_string(dtype))
        return gk_fail(err, GK_EFORMAT, "tensor '%s': dtype is not a string",
                       t->name);
    const dtype_entry *dt = dtype_by_name(json_string_value(dtype));
    if (!dt)
        return gk_fail(err, GK_EUNSUPPORTED, "tensor '%s': unknown dtype '%s'",
                       t->name, json_string_value(dtype));
    t->dtype = dt->dtype;
    t->dtype_name = dt->name;
    st = parse_shape(shape, t, err);
    if (st == GK_OK) st = compute_sizes(t, dt->size, err);
    if (st == GK_OK) st = parse_offsets(offsets, data, data_size, t, err);
    return st;
}

/* ---- __metadata__ ------------------------------------------------------ */

/* gk_json_parse refuses repeated keys, so 'graphkern' is here at most once. */
static gk_status parse_metadata(const json_t *meta, gk_st_file *out,
                                gk_error *err) {
    if (!json_is_object(meta))
        return gk_fail(err, GK_EFORMAT, "__metadata__ is not an object");
    const char *key;
    const json_t *item;
    json_object_foreach((json_t *)meta, key, item) {
        if (!json_is_string(item))
            return gk_fail(err, GK_EFORMAT,
                           "__metadata__ entry '%s' is not a string", key);
        if (strcmp(key, "graphkern") != 0) continue;
        size_t len = strlen(json_string_value(item));
        out->graphkern_metadata = gk_alloc(len + 1);
        if (!out->graphkern_metadata)
            return gk_fail(err, GK_ENOMEM, "no memory for the metadata");
        memcpy(out->graphkern_metadata, json_string_value(item), len + 1);
    }
    return GK_OK;
}

/* ---- whole-file checks ------------------------------------------------- */

static int compare_names(const void *a, const void *b) {
    const gk_st_tensor *ta = *(const gk_st_tensor *const *)a;
    const gk_st_tensor *tb = *(const gk_st_tensor *const *)b;
    return strcmp(ta->name, tb->name);
}

static int compare_ranges(const void *a, const void *b) {
    const gk_st_tensor *ta = *(const gk_st_tensor *const *)a;
    const gk_st_tensor *tb = *(const gk_st_tensor *const *)b;
    if (ta->data != tb->data) return ta->data < tb->data ? -1 : 1;
    return (ta->nbytes > tb->nbytes) - (ta->nbytes < tb->nbytes);
}

/* The tensors cover the data exactly (docs/model-format.md): no overlap,
 * no hole, nothing after the last one. order is sorted by data range. */
static gk_status check_coverage(const gk_st_tensor **order, size_t count,
                                const uint8_t *data, size_t data_size,
                                gk_error *err) {
    const uint8_t *end = data;
    const gk_st_tensor *prev = NULL;
    for (size_t i = 0; i < count; i++) {
        if (order[i]->nbytes == 0) continue;  /* empty ranges never clash */
        if (order[i]->data < end)
            return gk_fail(err, GK_EOFFSET,
                           "tensors '%s' and '%s' have overlapping data",
                           prev->name, order[i]->name);
        if (order[i]->data > end)
            return gk_fail(err, GK_EOFFSET, "tensor '%s': hole in the data "
                           "before it (%zu bytes)", order[i]->name,
                           (size_t)(order[i]->data - end));
        end = order[i]->data + order[i]->nbytes;
        prev = order[i];
    }
    if (end != data + data_size)
        return gk_fail(err, GK_EOFFSET, "%zu trailing bytes after the last "
                       "tensor", (size_t)(data + data_size - end));
    return GK_OK;
}

/* Duplicate names, and the coverage of the data, both found by sorting a
 * list of pointers (O(n log n); a header may list many tensors). */
static gk_status check_names_and_coverage(const gk_st_file *file,
                                          const uint8_t *data,
                                          size_t data_size, gk_error *err) {
    if (file->count == 0)
        return check_coverage(NULL, 0, data, data_size, err);
    const gk_st_tensor **order =
        gk_calloc_array(file->count, sizeof *order);
    if (!order) return gk_fail(err, GK_ENOMEM, "no memory to check names");
    for (size_t i = 0; i < file->count; i++) order[i] = &file->tensors[i];
    gk_status st = GK_OK;
    qsort(order, file->count, sizeof *order, compare_names);
    for (size_t i = 1; i < file->count && st == GK_OK; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            st = gk_fail(err, GK_EFORMAT, "tensor '%s' is listed twice",
                         order[i]->name);
    qsort(order, file->count, sizeof *order, compare_ranges);
    if (st == GK_OK)
        st = check_coverage(order, file->count, data, data_size, err);
    gk_free(order);
    return st;
}

/* ---- the header -------------------------------------------------------- */

/* One block holds the tensor array and then every name, so a file costs two
 * allocations (this and the metadata string) and gk_st_free two frees. */
static gk_status alloc_tensors(const json_t *header, gk_st_file *out,
                               gk_error *err) {
    size_t count = 0, name_bytes = 0;
    const char *key;
    const json_t *item;
    json_object_foreach((json_t *)header, key, item) {
        if (strcmp(key, "__metadata__") == 0) continue;
        count++;
        name_bytes += strlen(key) + 1;
    }
    size_t array_bytes = count * sizeof(gk_st_tensor);
    uint8_t *block = gk_alloc(array_bytes + name_bytes);
    if (!block) return gk_fail(err, GK_ENOMEM, "no memory for %zu tensors",
                               count);
    out->tensors = (gk_st_tensor *)block;
    out->count = count;
    char *names = (char *)block + array_bytes;
    size_t i = 0;
    json_object_foreach((json_t *)header, key, item) {
        if (strcmp(key, "__metadata__") == 0) continue;
        size_t len = strlen(key) + 1;
        memcpy(names, key, len);
        out->tensors[i++].name = names;
        names += len;
    }
    return GK_OK;
}

/* Names are unique here (gk_json_parse refuses repeated keys);
 * check_names_and_coverage still guards the invariant the rest of the
 * loader relies on. */
static gk_status parse_header(const json_t *header, const uint8_t *data,
                              size_t data_size, gk_st_file *out,
                              gk_error *err) {
    if (!json_is_object(header))
        return gk_fail(err, GK_EFORMAT, "safetensors header is not an object");
    gk_status st = alloc_tensors(header, out, err);
    size_t i = 0;
    const char *key;
    const json_t *item;
    json_object_foreach((json_t *)header, key, item) {
        if (st != GK_OK) break;
        if (strcmp(key, "__metadata__") == 0)
            st = parse_metadata(item, out, err);
        else
            st = parse_entry(item, data, data_size, &out->tensors[i++], err);
    }
    if (st == GK_OK) st = check_names_and_coverage(out, data, data_size, err);
    return st;
}

/* The 8-byte little-endian header length, checked against the buffer. */
static gk_status read_header_length(const uint8_t *buf, size_t size,
                                    uint64_t *len, gk_error *err) {
    if (size < 8)
        return gk_fail(err, GK_EFORMAT,
                       "%zu bytes: too short for a safetensors file", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | buf[i];
    if (n > GK_ST_MAX_HEADER)
        return gk_fail(err, GK_EFORMAT,
                       "header length %llu is above the 100 MB limit",
                       (unsigned long long)n);
    if (n > size - 8)
        return gk_fail(err, GK_EFORMAT,
                       "header length %llu runs past the end of the %zu-byte "
                       "file", (unsigned long long)n, size);
    *len = n;
    return GK_OK;
}

gk_status gk_st_parse(const uint8_t *buf, size_t size, gk_st_file *out,
                      gk_error *err) {
    if (!out) return gk_fail(err, GK_EINVAL, "gk_st_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!buf && size) return gk_fail(err, GK_EINVAL, "gk_st_parse: buf NULL");
    uint64_t header_len = 0;
    gk_status st = read_header_length(buf, size, &header_len, err);
    if (st != GK_OK) return st;
    /* the header is the object plus the space padding writers add */
    json_t *header = NULL;
    st = gk_json_parse((const char *)buf + 8, header_len, "safetensors header",
                       &header, err);
    if (st != GK_OK) return st;
    const uint8_t *data = buf + 8 + header_len;
    st = parse_header(header, data, size - 8 - header_len, out, err);
    json_decref(header);
    if (st != GK_OK) {
        gk_st_free(out);
        return st;
    }
    gk_ok(err);
    return GK_OK;
}

void gk_st_free(gk_st_file *file) {
    if (!file) return;
    gk_free(file->tensors);
    gk_free(file->graphkern_metadata);
    memset(file, 0, sizeof *file);
}

const gk_st_tensor *gk_st_find(const gk_st_file *file, const char *name) {
    if (!file || !name) return NULL;
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->tensors[i].name, name) == 0) return &file->tensors[i];
    return NULL;
}

/* ---- conversion to float32 --------------------------------------------- */

/* IEEE half to float, subnormals, infinities and NaN included. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else {
        /* zero or subnormal: mant * 2^-24, exact in float */
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Tensor data may sit at any byte offset, hence memcpy for every element.
 * safetensors is little-endian, like every host this library targets. */
gk_status gk_st_to_f32(const gk_st_tensor *t, float *dst, gk_error *err) {
    if (!t || (!dst && t->numel))
        return gk_fail(err, GK_EINVAL, "gk_st_to_f32: NULL argument");
    const uint8_t *src = t->data;
    switch (t->dtype) {
    case GK_DT_F32:
        if (t->numel) memcpy(dst, src, t->numel * sizeof(float));
        return GK_OK;
    case GK_DT_F64:
        for (size_t i = 0; i < t->numel; i++) {
            double v;
            memcpy(&v, src + 8 * i, sizeof v);
            /* out-of-range conversion is undefined in C: make it inf */
            dst[i] = v > FLT_MAX ? INFINITY : v < -FLT_MAX ? -INFINITY
                                                            : (float)v;
        }
        return GK_OK;
    case GK_DT_F16:
    case GK_DT_BF16:
        for (size_t i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, sizeof h);
            if (t->dtype == GK_DT_F16) {
                dst[i] = half_to_float(h);
            } else {
                uint32_t bits = (uint32_t)h << 16;  /* bf16 = top half */
                memcpy(&dst[i], &bits, sizeof bits);
            }
        }
        return GK_OK;
    default:
        return gk_fail(err, GK_EDTYPE,
                       "tensor '%s': dtype %s is not a float type", t->name,
                       t->dtype_name ? t->dtype_name : gk_dtype_name(t->dtype));
    }
}
