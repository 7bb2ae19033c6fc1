/* Suggestions for misspelled names in messages ("did you mean ...?"). */
#ifndef GK_DID_YOU_MEAN_H
#define GK_DID_YOU_MEAN_H

#include <stddef.h>

/* The entry of names[0, count) closest to word by edit distance, or NULL
 * when none is close enough to be a likely typo (at most one edit per three
 * characters of the name, at least one). Case counts as an edit. */
const char *gk_closest_name(const char *word, const char *const *names,
                            size_t count);

#endif
