/* gk_json_parse: jansson with duplicate keys refused and named. */
#include "json_parse.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

/* jansson reports a duplicate key with the byte offset just past the key's
 * closing quote, and quotes the key itself only when it is short: find the
 * key in the text from that offset. Escapes stay as written (the key is
 * only for the message). */
static void duplicate_key(const char *text, size_t len, size_t end,
                          char *key, size_t key_size) {
    snprintf(key, key_size, "?");
    if (end < 2 || end > len || text[end - 1] != '"') return;
    size_t close = end - 1, open = close;
    while (open > 0) {
        open--;
        if (text[open] != '"') continue;
        size_t backslashes = 0;
        while (open > backslashes && text[open - 1 - backslashes] == '\\')
            backslashes++;
        if (backslashes % 2 == 0) break;  /* not an escaped quote */
    }
    if (text[open] != '"' || open == close) return;
    size_t n = close - open - 1;
    if (n >= key_size) n = key_size - 4;  /* room for "..." */
    memcpy(key, text + open + 1, n);
    strcpy(key + n, n < close - open - 1 ? "..." : "");
}

gk_status gk_json_parse(const char *text, size_t len, const char *what,
                        json_t **out, gk_error *err) {
    *out = NULL;
    json_error_t error;
    json_t *json = json_loadb(text, len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                              &error);
    if (json) {
        *out = json;
        return GK_OK;
    }
    if (json_error_code(&error) == json_error_duplicate_key) {
        char key[80];
        duplicate_key(text, len, (size_t)error.position, key, sizeof key);
        return gk_fail(err, GK_EFORMAT,
                       "%s: key '%s' appears twice in one object", what, key);
    }
    return gk_fail(err, GK_EJSON, "%s is not valid JSON: %s (byte %d)", what,
                   error.text, error.position);
}
