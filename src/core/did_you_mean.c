/* gk_closest_name: Levenshtein distance against a short list of names. */
#include "did_you_mean.h"

#include <string.h>

/* Names are format keys and enum values, all short; a longer word is no
 * typo of any of them, and the bound keeps the rows on the stack. */
#define LONGEST_NAME 64

static size_t min3(size_t a, size_t b, size_t c) {
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Edit distance (insert, delete, substitute), two rows over `name`. */
static size_t edit_distance(const char *word, size_t word_len,
                            const char *name, size_t name_len) {
    size_t prev[LONGEST_NAME + 1], cur[LONGEST_NAME + 1];
    for (size_t j = 0; j <= name_len; j++) prev[j] = j;
    for (size_t i = 1; i <= word_len; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= name_len; j++)
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
                          prev[j - 1] + (word[i - 1] != name[j - 1]));
        memcpy(prev, cur, (name_len + 1) * sizeof *prev);
    }
    return prev[name_len];
}

const char *gk_closest_name(const char *word, const char *const *names,
                            size_t count) {
    size_t word_len = strlen(word);
    if (word_len > LONGEST_NAME) return NULL;
    const char *best = NULL;
    size_t best_distance = (size_t)-1;
    for (size_t k = 0; k < count; k++) {
        size_t name_len = strlen(names[k]);
        if (name_len > LONGEST_NAME) continue;
        size_t d = edit_distance(word, word_len, names[k], name_len);
        size_t allowed = name_len / 3 ? name_len / 3 : 1;
        if (d <= allowed && d < best_distance) {
            best = names[k];
            best_distance = d;
        }
    }
    return best;
}
