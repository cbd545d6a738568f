/*
 * archeo harness runtime: everything the engine needs from libc, compiled with the system
 * headers (the engine and the revision are built -nostdinc, see harness.h).
 *
 *   program [--info] [--cpu SECONDS] [--cpu-ms MS] [--segments N] [--as MB] [--fsize BYTES] [--no-net]
 *           < batch > trace
 *
 * --cpu-ms is a finer CPU budget than RLIMIT_CPU's whole seconds (an ITIMER_PROF timer that
 * raises SIGPROF): a batch of a few thousand operations needs milliseconds, so a revision that
 * loops forever is caught in a fraction of a second instead of a whole one.
 *
 * Both CPU budgets are per segment: a batch made of several runs joined by `w` (wipe,
 * docs/protocol.md) gets them afresh at each `w` (archeo_rt_segment), so each of its segments
 * is stopped where it would have been stopped run alone. RLIMIT_CPU counts the whole process
 * and its hard limit can only go down, so --segments N (the number of segments, 1 if absent)
 * sets the hard limit high enough for N of them; each `w` then moves the soft limit to the CPU
 * time used so far plus SECONDS.
 *
 * The confinement options are applied here, first thing in main, before any of the revision's
 * code runs: that lets archeo/execute.py start the program with a plain vfork/exec (no Python
 * preexec hook, no `unshare` wrapper process), which is most of the per-run cost it saves.
 *
 * On a fatal signal the committed trace lines are flushed, `SIGNAL <n>` is written, and the
 * signal is raised again with its default action, so the parent sees the real cause of death.
 * Handlers run on an alternate stack so a stack overflow is reported too.
 *
 * Our own code (MIT).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

struct archeo_out archeo_out;

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;   /* the reader is gone: nothing more to say */
        }
        p += w;
        n -= (size_t)w;
    }
}

void archeo_rt_flush(void)
{
    size_t n = archeo_out.committed;
    const char *p = archeo_out.buf;
    if (!n)
        return;
    archeo_out.flushed = 0;
    archeo_out.flushing = 1;
    while (archeo_out.flushed < n) {
        ssize_t w = write(1, p + archeo_out.flushed, n - archeo_out.flushed);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        archeo_out.flushed += (size_t)w;
    }
    memmove(archeo_out.buf, archeo_out.buf + n, archeo_out.len - n);
    archeo_out.len -= n;
    archeo_out.committed = 0;
    archeo_out.flushing = 0;
}

void archeo_rt_reserve(size_t need)
{
    if (archeo_out.len + need <= archeo_out.cap)
        return;
    archeo_rt_flush();   /* make room by writing the complete lines */
    if (archeo_out.len + need <= archeo_out.cap)
        return;
    /* one line longer than the buffer (a dump of a big tree): grow */
    size_t cap = archeo_out.cap * 2;
    while (cap < archeo_out.len + need)
        cap *= 2;
    char *buf = realloc(archeo_out.buf, cap);
    if (!buf)
        archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the trace", 0);
    archeo_out.buf = buf;
    archeo_out.cap = cap;
}

void *archeo_rt_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the node pool", 0);
    return p;
}

void archeo_rt_fail(int code, const char *what, unsigned long line)
{
    if (line)
        fprintf(stderr, "archeo-harness: batch line %lu: %s\n", line, what);
    else
        fprintf(stderr, "archeo-harness: %s\n", what);
    _exit(code);
}

/* ---------------------------------------------------------------- fatal signals */
static void flush_for_death(void)
{
    size_t n = archeo_out.committed;
    if (archeo_out.flushing) {
        /* died while flushing: write what that flush had not written yet */
        size_t done = archeo_out.flushed;
        if (done < n)
            write_all(archeo_out.buf + done, n - done);
        return;
    }
    write_all(archeo_out.buf, n);
}

static void on_fatal(int sig)
{
    char line[24] = "SIGNAL ";
    int i = 7, d = 1;
    flush_for_death();
    while (d * 10 <= sig)
        d *= 10;
    for (; d; d /= 10)
        line[i++] = (char)('0' + (sig / d) % 10);
    line[i++] = '\n';
    write_all(line, (size_t)i);
    /* SA_RESETHAND restored the default action; raise it again. For a fault the instruction
     * faults again on return; for raise() the pending signal is delivered on return. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    static char altstack[1 << 16];
    stack_t ss;
    struct sigaction sa;
#ifdef ARCHEO_SANITIZE
    /* ASan reports memory faults itself (with the kind we classify by), then aborts. */
    static const int sigs[] = {SIGILL, SIGABRT, SIGXCPU, SIGPROF};
#else
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU, SIGPROF};
#endif
    size_t i;

    ss.ss_sp = altstack;
    ss.ss_size = sizeof(altstack);
    ss.ss_flags = 0;
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

#ifdef ARCHEO_SANITIZE
/* After its report a sanitizer aborts (rather than exit(1)), so the SIGABRT handler flushes
 * the trace and writes `SIGNAL 6`. (GCC links ASan and UBSan as two runtimes, and a death
 * callback registered with one is never called by the other: abort reaches both.) */
const char *__asan_default_options(void)
{
    return "detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=1:handle_abort=0";
}

const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1:abort_on_error=1";
}
#endif

/* ---------------------------------------------------------------- confinement */
static void limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl;
    rl.rlim_cur = soft;
    rl.rlim_max = hard;
    setrlimit(resource, &rl);
}

/* The CPU budgets of one segment (--cpu, --cpu-ms); 0 when not asked for. */
static rlim_t cpu_seconds, cpu_hard;
static unsigned long cpu_ms;

static void arm_cpu_ms(void)
{
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t)(cpu_ms / 1000);
    it.it_value.tv_usec = (suseconds_t)((cpu_ms % 1000) * 1000);
    setitimer(ITIMER_PROF, &it, NULL);
}

void archeo_rt_segment(void)
{
    if (cpu_ms)
        arm_cpu_ms();   /* a fresh countdown */
    if (cpu_seconds) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) {
            unsigned long long us = (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL +
                                    (unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
            rlim_t soft = (rlim_t)((us + 999999) / 1000000) + cpu_seconds;   /* used, rounded up */
            if (soft >= cpu_hard)
                soft = cpu_hard - 1;
            limit(RLIMIT_CPU, soft, cpu_hard);
        }
    }
}

/* Leave the network: a new (empty) network namespace, inside a new user namespace when we
 * are not root. Returns 0, or the errno that said no. */
static int leave_network(void)
{
    if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
        return 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
        return 0;
    return errno;
}

static char *read_stdin(size_t *size)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the batch", 0);
    for (;;) {
        ssize_t r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the batch", 0);
        }
        r = read(0, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            archeo_rt_fail(ARCHEO_EXIT_BATCH, "cannot read the batch", 0);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *size = n;
    return buf;
}

int main(int argc, char **argv)
{
    int info = 0, no_net = 0, net_errno = -1, i;
    unsigned long segments = 1;
    size_t size;
    char *batch;

    limit(RLIMIT_CORE, 0, 0);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--info"))
            info = 1;
        else if (!strcmp(a, "--no-net"))
            no_net = 1;
        else if (!strcmp(a, "--cpu")) {
            cpu_seconds = strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--cpu-ms")) {
            cpu_ms = strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--segments")) {
            segments = strtoul(v, NULL, 10);
            if (!segments)
                segments = 1;
            i++;
        } else if (!strcmp(a, "--as")) {
#ifndef ARCHEO_SANITIZE   /* ASan reserves terabytes of shadow: an address-space limit breaks it */
            rlim_t mb = strtoul(v, NULL, 10);
            limit(RLIMIT_AS, mb << 20, mb << 20);
#endif
            i++;
        } else if (!strcmp(a, "--fsize")) {
            rlim_t b = strtoul(v, NULL, 10);
            limit(RLIMIT_FSIZE, b, b);
            i++;
        } else {
            fprintf(stderr, "archeo-harness: unknown option %s\n", a);
            return ARCHEO_EXIT_BATCH;
        }
    }
    if (cpu_seconds) {   /* SIGXCPU at the soft limit; SIGKILL a second later (per segment) */
        cpu_hard = (cpu_seconds + 1) * (rlim_t)segments;
        limit(RLIMIT_CPU, cpu_seconds, cpu_hard);
    }
    if (cpu_ms)
        arm_cpu_ms();
    if (no_net)
        net_errno = leave_network();
    if (info) {
        printf("commit %s\nnode_size %lu\nops %s\n", archeo_commit, archeo_node_size, archeo_ops);
#ifdef ARCHEO_SANITIZE
        printf("sanitize 1\n");
#else
        printf("sanitize 0\n");
#endif
        if (no_net)
            printf("net %s\n", net_errno ? strerror(net_errno) : "isolated");
        return 0;
    }

    if (no_net && net_errno)   /* carry on unisolated, but say so: execute.py records it */
        fprintf(stderr, "archeo-harness: network not isolated: %s\n", strerror(net_errno));
    archeo_out.cap = 1 << 17;
    archeo_out.buf = malloc(archeo_out.cap);
    if (!archeo_out.buf)
        archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the trace", 0);
    install_handlers();
    batch = read_stdin(&size);
    return archeo_run(batch, size);
}
