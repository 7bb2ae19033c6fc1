/* Status names and per-call messages. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const status_names[GK_STATUS_COUNT] = {
    [GK_OK] = "GK_OK: success",
    [GK_EINVAL] = "GK_EINVAL: invalid argument",
    [GK_ENOMEM] = "GK_ENOMEM: out of memory",
    [GK_EIO] = "GK_EIO: file could not be read or written",
    [GK_EFORMAT] = "GK_EFORMAT: the file breaks its format",
    [GK_EJSON] = "GK_EJSON: malformed JSON",
    [GK_EMETADATA] = "GK_EMETADATA: invalid graphkern metadata",
    [GK_EUNSUPPORTED] = "GK_EUNSUPPORTED: unsupported feature",
    [GK_EMISSING] = "GK_EMISSING: missing tensor",
    [GK_EDTYPE] = "GK_EDTYPE: wrong tensor dtype",
    [GK_ESHAPE] = "GK_ESHAPE: wrong shape",
    [GK_EOFFSET] = "GK_EOFFSET: tensor data offsets out of range or overlapping",
    [GK_ECHANNELS] = "GK_ECHANNELS: channel mismatch between layers",
    [GK_EINDEX] = "GK_EINDEX: edge index out of range",
    [GK_ELIMIT] = "GK_ELIMIT: size above capacity",
    [GK_EOVERFLOW] = "GK_EOVERFLOW: size computation overflows",
    [GK_ENONFINITE] = "GK_ENONFINITE: NaN or Inf value",
    [GK_EMISMATCH] = "GK_EMISMATCH: graph does not match the model",
    [GK_EISA] = "GK_EISA: instruction set not available",
    [GK_ETHREAD] = "GK_ETHREAD: worker threads could not be started",
};

const char *gk_strerror(gk_status status) {
    if ((unsigned)status >= GK_STATUS_COUNT) return "GK_?: unknown status";
    return status_names[status];
}

gk_status gk_fail(gk_error *err, gk_status status, const char *fmt, ...) {
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

void gk_ok(gk_error *err) {
    if (err) {
        err->status = GK_OK;
        err->message[0] = '\0';
    }
}
