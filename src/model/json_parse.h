/* Parsing untrusted JSON text (safetensors headers, model metadata) with
 * jansson, with the strictness both formats need. */
#ifndef GK_JSON_PARSE_H
#define GK_JSON_PARSE_H

#include <jansson.h>
#include <stddef.h>

#include "graphkern.h"

/* Parse text[0, len) as exactly one JSON value of any kind (the caller
 * checks that it is an object, to give that its own status); whitespace may
 * follow it, nothing else. `what` names the text in messages, e.g.
 * "safetensors header". Numbers keep jansson's types: an integer literal is
 * a json_integer, anything with a fraction or exponent a json_real; read
 * both with json_number_value.
 *   GK_EJSON    not JSON, trailing text, an integer beyond 64 bits, a
 *               \u0000 in a string; the message has jansson's reason and
 *               the byte offset
 *   GK_EFORMAT  a key given twice in one object (jansson would keep only
 *               the last one, silently); the message names the key
 * On success *out is a new reference (json_decref it). */
gk_status gk_json_parse(const char *text, size_t len, const char *what,
                        json_t **out, gk_error *err);

#endif
