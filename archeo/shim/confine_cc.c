/*
 * archeo's compiler launcher: the compile is confined too (docs/security.md).
 *
 *   confine_cc READ-PATH... -- WRITE-DIR -- /abs/path/to/cc ARGS...
 *
 * The revision's text reaches the compiler and the assembler, and both read files a text can
 * name: `#include` (build.py refuses absolute and `..` paths before compiling) but also the
 * assembler's `.incbin "/any/file"`, which copies a file into the program, where its bytes
 * can be written to the trace. So the compiler runs under Landlock: it may read and execute
 * beneath READ-PATHs only (the toolchain and the system's C headers, archeo's stubs and
 * runtimes) and write only beneath WRITE-DIR (the build's private directory). Without
 * Landlock in the kernel it runs as before (the program it makes is confined regardless).
 *
 * Our own code (MIT).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/prctl.h>

#include "archeo_landlock.h"

int main(int argc, char **argv)
{
    int i = 1, sep, err;
    const char *write;
    while (i < argc && strcmp(argv[i], "--"))
        i++;
    sep = i;
    if (sep + 3 >= argc || strcmp(argv[sep + 2], "--")) {
        fprintf(stderr, "usage: confine_cc READ... -- WRITE -- CC ARGS...\n");
        return 125;
    }
    write = argv[sep + 1];
    argv[sep] = NULL;   /* ends the list of READ paths */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("archeo: confine_cc: no_new_privs");
        return 125;
    }
    err = archeo_landlock((const char *const *)argv + 1, write);
    if (err && err != ENOSYS && err != EOPNOTSUPP) {
        fprintf(stderr, "archeo: confine_cc: landlock: %s\n", strerror(err));
        return 125;
    }
    execv(argv[sep + 3], argv + sep + 3);
    perror("archeo: confine_cc: exec");
    return 127;
}
