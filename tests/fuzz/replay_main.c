/* Runs a fuzz target's LLVMFuzzerTestOneInput over files and directories
 * without libFuzzer, so that every saved crash input (regressions/) and the
 * seeds are replayed by CTest in every build, sanitized or not. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static long replayed;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 16, size = 0, k;
    uint8_t *buf = malloc(cap);
    while (buf && (k = fread(buf + size, 1, cap - size, f)) > 0) {
        size += k;
        if (size == cap) {
            uint8_t *more = realloc(buf, cap *= 2);
            if (!more) free(buf);
            buf = more;
        }
    }
    fclose(f);
    if (!buf) return 1;
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    replayed++;
    return 0;
}

static int replay_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(sb.st_mode)) return replay_file(path);
    DIR *dir = opendir(path);
    if (!dir) return 1;
    int rc = 0;
    const struct dirent *ent;
    while ((ent = readdir(dir))) {
        if (ent->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, ent->d_name);
        rc |= replay_path(child);
    }
    closedir(dir);
    return rc;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++) rc |= replay_path(argv[i]);
    printf("%s: %ld inputs replayed%s\n", argv[0], replayed, rc ? ", some unreadable" : "");
    return rc;
}
