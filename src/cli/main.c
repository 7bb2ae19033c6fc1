/* graphkern: demo, info, infer, bench; --help and --version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    {"demo", "the trading loop: returns -> correlation graph -> GAT, per tick", cmd_demo},
    {"info", "print a model's layers and the kernels a plan would choose", cmd_info},
    {"infer", "run a model on an input file: --model M --input IN [--output OUT]",
     cmd_infer},
    {"bench", "benchmark the scenarios of docs/performance.md (--help for options)",
     cmd_bench},
};

static int usage(FILE *to) {
    fprintf(to, "usage: graphkern <command> [options]   (graphkern <command> --help)\n"
                "       graphkern --version\n\ncommands:\n");
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
        fprintf(to, "  %-6s %s\n", commands[k].name, commands[k].summary);
    return to == stderr ? 2 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) return usage(stdout);
    if (!strcmp(argv[1], "--version")) {
        printf("graphkern %s\n", GK_VERSION);  /* the CMake project's version */
        return 0;
    }
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
        if (!strcmp(argv[1], commands[k].name))
            return commands[k].run(argc - 1, argv + 1);
    fprintf(stderr, "graphkern: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
