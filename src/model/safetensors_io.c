/* Reading whole files, and writing tensors as safetensors. */
#define _POSIX_C_SOURCE 200809L  /* strerror_r */

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "model.h"
#include "safetensors.h"

/* strerror is not thread-safe; the XSI strerror_r is. */
static const char *describe_errno(int errnum, char *buf, size_t size) {
    if (strerror_r(errnum, buf, size) != 0) snprintf(buf, size, "errno %d",
                                                     errnum);
    return buf;
}

static gk_status io_fail(gk_error *err, const char *what, const char *path) {
    char reason[128];
    return gk_fail(err, GK_EIO, "%s '%s': %s", what, path,
                   describe_errno(errno, reason, sizeof reason));
}

/* ---- reading ----------------------------------------------------------- */

/* fstat rather than seeking: seeking to the end of a directory "works" on
 * Linux and yields a meaningless size. */
static gk_status file_size(FILE *f, const char *path, size_t *size,
                           gk_error *err) {
    struct stat info;
    if (fstat(fileno(f), &info) != 0) return io_fail(err, "cannot stat", path);
    if (!S_ISREG(info.st_mode))
        return gk_fail(err, GK_EIO, "'%s' is not a regular file", path);
    if ((uintmax_t)info.st_size > SIZE_MAX)
        return gk_fail(err, GK_EIO, "'%s' is too large", path);
    *size = (size_t)info.st_size;
    return GK_OK;
}

gk_status gk_read_file(const char *path, uint8_t **buf, size_t *size,
                       gk_error *err) {
    if (!path || !buf || !size)
        return gk_fail(err, GK_EINVAL, "gk_read_file: NULL argument");
    *buf = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return io_fail(err, "cannot open", path);
    size_t n = 0;
    gk_status st = file_size(f, path, &n, err);
    uint8_t *data = NULL;
    if (st == GK_OK && !(data = gk_alloc(n)))
        st = gk_fail(err, GK_ENOMEM, "no memory to read %zu bytes of '%s'", n,
                     path);
    if (st == GK_OK && fread(data, 1, n, f) != n)
        st = ferror(f) ? io_fail(err, "cannot read", path)
                       : gk_fail(err, GK_EIO, "'%s' shrank while reading",
                                 path);
    fclose(f);
    if (st != GK_OK) {
        gk_free(data);
        return st;
    }
    *buf = data;
    *size = n;
    gk_ok(err);
    return GK_OK;
}

/* ---- serializing ------------------------------------------------------- */

static gk_status tensor_bytes(const gk_st_out *t, size_t *nbytes,
                              gk_error *err) {
    size_t elem = gk_dtype_size(t->dtype);
    if (!t->name || strcmp(t->name, "__metadata__") == 0)
        return gk_fail(err, GK_EINVAL, "tensor name '%s' is not allowed",
                       t->name ? t->name : "(null)");
    if (elem == 0)
        return gk_fail(err, GK_EINVAL, "tensor '%s': dtype has no size",
                       t->name);
    if (t->ndim < 0 || t->ndim > GK_ST_MAX_DIMS)
        return gk_fail(err, GK_EINVAL, "tensor '%s': %d dims", t->name,
                       t->ndim);
    size_t n = elem;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0)
            return gk_fail(err, GK_EINVAL, "tensor '%s': dim %d negative",
                           t->name, d);
        uint64_t dim = (uint64_t)t->shape[d];
        if (dim != 0 && n > SIZE_MAX / dim)
            return gk_fail(err, GK_EOVERFLOW, "tensor '%s': size overflows",
                           t->name);
        n *= (size_t)dim;
    }
    if (n && !t->data)
        return gk_fail(err, GK_EINVAL, "tensor '%s': data is NULL", t->name);
    *nbytes = n;
    return GK_OK;
}

/* Writing a file our own parser would reject helps nobody: refuse
 * duplicate names up front (n^2 is fine for the handful a writer has). */
static gk_status check_names_unique(const gk_st_out *tensors, size_t count,
                                    gk_error *err) {
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(tensors[i].name, tensors[j].name) == 0)
                return gk_fail(err, GK_EINVAL, "tensor '%s' given twice",
                               tensors[i].name);
    return GK_OK;
}

/* jansson's setters take ownership of the new value even when they fail,
 * so each step needs no cleanup of its own: a NULL value makes the setter
 * fail too. */
static int add_entry(json_t *header, const gk_st_out *t, size_t begin,
                     size_t end) {
    json_t *shape = json_array();
    for (int d = 0; shape && d < t->ndim; d++)
        if (json_array_append_new(shape, json_integer((json_int_t)t->shape[d])))
            return json_decref(shape), 0;
    json_t *offsets = json_pack("[II]", (json_int_t)begin, (json_int_t)end);
    json_t *entry = json_pack("{s:s, s:o, s:o}", "dtype",
                              gk_dtype_name(t->dtype), "shape", shape,
                              "data_offsets", offsets);
    return json_object_set_new(header, t->name, entry) == 0;
}

/* The JSON header, tensors laid out back to back in the order given. */
static gk_status build_header(const gk_st_out *tensors, size_t count,
                              const char *metadata, char **text,
                              size_t *data_size, gk_error *err) {
    json_t *header = json_object();
    int ok = header != NULL;
    if (ok && metadata)
        ok = json_object_set_new(header, "__metadata__",
                                 json_pack("{s:s}", "graphkern", metadata)) == 0;
    size_t offset = 0;
    gk_status st = GK_OK;
    for (size_t i = 0; ok && i < count; i++) {
        size_t nbytes = 0;
        st = tensor_bytes(&tensors[i], &nbytes, err);
        if (st != GK_OK) break;
        if (nbytes > SIZE_MAX - offset) {
            st = gk_fail(err, GK_EOVERFLOW, "total tensor size overflows");
            break;
        }
        ok = add_entry(header, &tensors[i], offset, offset + nbytes);
        offset += nbytes;
    }
    if (st == GK_OK && ok) ok = (*text = json_dumps(header, JSON_COMPACT)) != 0;
    json_decref(header);
    if (st != GK_OK) return st;
    /* jansson also refuses strings that are not UTF-8 */
    if (!ok) return gk_fail(err, GK_ENOMEM, "cannot build the header: no "
                            "memory, or a name or the metadata is not UTF-8");
    *data_size = offset;
    return GK_OK;
}

static void copy_data(const gk_st_out *tensors, size_t count, uint8_t *dst) {
    for (size_t i = 0; i < count; i++) {
        size_t nbytes = 0;
        tensor_bytes(&tensors[i], &nbytes, NULL);  /* validated already */
        if (nbytes) memcpy(dst, tensors[i].data, nbytes);
        dst += nbytes;
    }
}

gk_status gk_st_serialize(const gk_st_out *tensors, size_t count,
                          const char *metadata, uint8_t **buf, size_t *size,
                          gk_error *err) {
    if (!buf || !size || (!tensors && count))
        return gk_fail(err, GK_EINVAL, "gk_st_serialize: NULL argument");
    *buf = NULL;
    *size = 0;
    for (size_t i = 0; i < count; i++) {
        size_t ignored;
        gk_status st = tensor_bytes(&tensors[i], &ignored, err);
        if (st != GK_OK) return st;
    }
    gk_status st = check_names_unique(tensors, count, err);
    char *text = NULL;
    size_t data_size = 0;
    if (st == GK_OK)
        st = build_header(tensors, count, metadata, &text, &data_size, err);
    if (st != GK_OK) return st;
    /* pad with spaces so the data starts 8-byte aligned, as the reference
     * implementation does */
    size_t text_len = strlen(text);
    size_t header_len = (text_len + 7) & ~(size_t)7;
    size_t total = 8 + header_len + data_size;
    uint8_t *out = total > data_size ? gk_alloc(total) : NULL;  /* wrap */
    if (!out) {
        free(text);  /* json_dumps allocates with malloc */
        return gk_fail(err, GK_ENOMEM, "no memory for %zu bytes", total);
    }
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
    memcpy(out + 8, text, text_len);
    memset(out + 8 + text_len, ' ', header_len - text_len);
    free(text);
    copy_data(tensors, count, out + 8 + header_len);
    *buf = out;
    *size = total;
    gk_ok(err);
    return GK_OK;
}

gk_status gk_st_write_file(const char *path, const gk_st_out *tensors,
                           size_t count, const char *metadata,
                           gk_error *err) {
    if (!path) return gk_fail(err, GK_EINVAL, "gk_st_write_file: NULL path");
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_status st = gk_st_serialize(tensors, count, metadata, &buf, &size, err);
    if (st != GK_OK) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        st = io_fail(err, "cannot create", path);
    } else {
        int bad = fwrite(buf, 1, size, f) != size;
        if (bad) st = io_fail(err, "cannot write", path);
        if (fclose(f) != 0 && !bad) st = io_fail(err, "cannot write", path);
    }
    gk_free(buf);
    if (st == GK_OK) gk_ok(err);
    return st;
}
