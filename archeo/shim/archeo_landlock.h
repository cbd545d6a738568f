/*
 * Landlock for archeo: one function, shared by the sandbox of the programs (sandbox_rt.c,
 * no path at all) and the compiler's launcher (confine_cc.c, a few paths to read, one to
 * write). Why a header of static code and not an object: each of the two is a single
 * translation unit compiled on its own (build.py).
 *
 * Our own code (MIT).
 */
#ifndef ARCHEO_LANDLOCK_H
#define ARCHEO_LANDLOCK_H

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

struct archeo_ll_ruleset_attr {   /* the kernel's struct, spelled out: older headers lack fields */
    unsigned long long handled_access_fs;
    unsigned long long handled_access_net;
    unsigned long long scoped;
};

struct archeo_ll_path_beneath {   /* struct landlock_path_beneath_attr, packed as the kernel wants */
    unsigned long long allowed_access;
    int parent_fd;
} __attribute__((packed));

/* Restrict this process (and what it executes) to reading, and executing, beneath the paths
 * of `read` (NULL-terminated, may be NULL) and to everything beneath `write` (may be NULL);
 * no other path is reachable. On ABI 4+ no TCP bind or connect, on ABI 6+ no signal out of
 * the domain and no abstract unix socket. 0, or the errno that said no (ENOSYS, EOPNOTSUPP:
 * no Landlock here). A path that does not exist is skipped. */
static int archeo_landlock(const char *const *read, const char *write)
{
    struct archeo_ll_ruleset_attr attr;
    struct archeo_ll_path_beneath rule;
    unsigned long long all, reading;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    int fd, err = 0;
    size_t size = sizeof(attr);
    if (abi < 1)
        return errno ? errno : ENOSYS;
    memset(&attr, 0, sizeof(attr));
    all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;   /* ABI 1: bits 0..12 */
    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    attr.handled_access_fs = all;
    if (abi >= 4)
        attr.handled_access_net = 3;   /* bind and connect, TCP */
    if (abi >= 6)
        attr.scoped = 3;   /* abstract unix sockets and signals: nothing outside the domain */
    if (abi < 4)
        size = offsetof(struct archeo_ll_ruleset_attr, handled_access_net);
    else if (abi < 6)
        size = offsetof(struct archeo_ll_ruleset_attr, scoped);
    fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0)
        return errno;
    reading = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    for (; read && *read && !err; read++) {
        rule.parent_fd = open(*read, O_PATH | O_CLOEXEC);
        if (rule.parent_fd < 0)
            continue;
        rule.allowed_access = reading;
        if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
            rule.allowed_access = reading & ~(unsigned long long)LANDLOCK_ACCESS_FS_READ_DIR;   /* a file */
            if (errno != EINVAL || syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
                err = errno;
        }
        close(rule.parent_fd);
    }
    if (write && !err) {
        rule.parent_fd = open(write, O_PATH | O_CLOEXEC);
        rule.allowed_access = all;
        if (rule.parent_fd < 0 || syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
            err = errno;
        if (rule.parent_fd >= 0)
            close(rule.parent_fd);
    }
    if (!err && syscall(SYS_landlock_restrict_self, fd, 0) != 0)
        err = errno;
    close(fd);
    return err;
}

#endif
