/*
 * archeo harness runtime: everything the engine needs from libc, compiled with the system
 * headers (the engine and the revision are built -nostdinc, see harness.h).
 *
 *   program [--info] [--cpu SECONDS] [--cpu-ms MS] [--stall-ms MS] [--step-limit N] [--segments N] [--as MB]
 *           [--fsize BYTES] [--no-net [--net-fd FD [--user-fd FD]]] [--digest] [--digest-cap BYTES]
 *           < batch > trace
 *   program --no-net --net-holder      (execute.py's shared network namespace, see join_network)
 *
 * --cpu-ms is a finer CPU budget than RLIMIT_CPU's whole seconds (checked from an ITIMER_PROF
 * timer; SIGPROF ends the run): a batch of a few thousand operations needs milliseconds, so a
 * revision that loops forever is caught in a fraction of a second instead of a whole one.
 *
 * --stall-ms is a watchdog on single operations: every millisecond a timer looks at the
 * engine's heartbeat (archeo_beat, bumped per operation and per step of its own walks), and
 * when it has not moved while the process used MS of CPU, and is still stuck at the next
 * look, one call into the revision has held the CPU that long. (The second look keeps one
 * long stall of the kernel's, charged to the process, from passing for an endless loop.)
 * A correct rbtree operation takes microseconds, so that is an endless loop: SIGPROF, exactly
 * as the budget would end it, only much sooner (the budget must cover a whole long segment).
 * Sanitizer builds ignore it: writing their report is long work without a heartbeat.
 *
 * --digest (docs/protocol.md, "Digest mode"): each segment's result lines are kept in memory
 * and replaced, when the segment ends, by one line `#digest <crc32> <adler32> <bytes>` over
 * them; a segment that dies still has its lines flushed, as without --digest. difftest compares
 * digests with the reference's and reads whole traces only where they differ, so megabytes of
 * trace no longer cross into Python. Past --digest-cap bytes (8 MiB) a segment's lines are
 * folded into its digest and dropped; should it then die, `#dropped` precedes its last lines.
 *
 * Both CPU budgets are per segment: a batch made of several runs joined by `w` (wipe,
 * docs/protocol.md) gets them afresh at each `w` (archeo_rt_segment), so each of its segments
 * is stopped where it would have been stopped run alone. RLIMIT_CPU counts the whole process
 * and its hard limit can only go down, so --segments N (the number of segments, 1 if absent)
 * sets the hard limit high enough for N of them; each `w` then moves the soft limit to the CPU
 * time used so far plus SECONDS.
 *
 * The confinement options are applied here (archeo_rt_setup), from the sandbox's preinit code,
 * before any of the revision's code runs: that lets archeo/execute.py start the program with a
 * plain vfork/exec (no Python preexec hook, no `unshare` wrapper process), which is most of the
 * per-run cost it saves.
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
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct archeo_out archeo_out;
volatile unsigned long archeo_beat;

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

/* ---------------------------------------------------------------- digest mode */
static int digest_mode;
static size_t digest_cap = 8u << 20;
static unsigned int crc_table[8][256];
static unsigned int d_crc, d_adler;   /* of the segment's lines folded so far */
static unsigned long long d_bytes;
static int d_dropped;

static void crc_init(void)
{
    unsigned int i, j, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (j = 1; j < 8; j++)
            crc_table[j][i] = crc_table[0][crc_table[j - 1][i] & 0xff] ^ (crc_table[j - 1][i] >> 8);
}

/* CRC-32 as zlib computes it (zlib.crc32 in Python), eight bytes a step. */
static unsigned int crc_update(unsigned int crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        unsigned int lo = crc ^ ((unsigned int)p[0] | (unsigned int)p[1] << 8 | (unsigned int)p[2] << 16 | (unsigned int)p[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
              crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Adler-32 as zlib computes it (zlib.adler32): a second, independent check beside the CRC. */
static unsigned int adler_update(unsigned int adler, const unsigned char *p, size_t n)
{
    unsigned long long a = adler & 0xffff, b = adler >> 16;   /* 64 bits: no overflow within a slice */
    while (n) {
        size_t k = n < 5552 ? n : 5552;   /* the most bytes before b can overflow 32 bits */
        n -= k;
        for (; k >= 8; k -= 8, p += 8) {   /* eight at a time: b gains 8a plus the bytes weighted 8..1 */
            b += 8 * a + 8ULL * p[0] + 7ULL * p[1] + 6ULL * p[2] + 5ULL * p[3] + 4ULL * p[4] + 3ULL * p[5] + 2ULL * p[6] + p[7];
            a += (unsigned long long)p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
        }
        while (k--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (unsigned int)(b << 16 | a);
}

static void fold(const char *p, size_t n)
{
    while (n) {   /* in slices, with a heartbeat: a big segment is work, not a stall */
        size_t k = n < 65536 ? n : 65536;
        d_crc = crc_update(d_crc, (const unsigned char *)p, k);
        d_adler = adler_update(d_adler, (const unsigned char *)p, k);
        d_bytes += k;
        p += k;
        n -= k;
        archeo_beat++;
    }
}

static void digest_reset(void)
{
    d_crc = 0;
    d_adler = 1;
    d_bytes = 0;
    d_dropped = 0;
}

/* The timer signals that end a run from outside the engine's code (SIGPROF, SIGALRM,
 * SIGXCPU): blocked while a flush writes and moves the buffer. Why: write(2) to a file is
 * not interrupted, so a timer signal that arrives during it is delivered just after it
 * returns, before `flushed` is advanced; the death flush then wrote that chunk a second time,
 * and a run stopped by its budget had 64 KiB of its trace twice, ~1000 lines before the stop
 * (1 stopped run in 8 on a busy machine: a trace that did not reproduce). With them blocked,
 * a flush is atomic for those signals; a fault cannot come from inside it. */
sigset_t archeo_timer_signals;   /* not static: sandbox_rt.c allows masking this set only */
#define timer_signals archeo_timer_signals

/* Write the committed lines out (whatever the mode). */
static void write_committed(void)
{
    size_t n = archeo_out.committed;
    const char *p = archeo_out.buf;
    if (!n)
        return;
    sigprocmask(SIG_BLOCK, &timer_signals, NULL);   /* never called with them blocked already */
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
    archeo_beat++;
    sigprocmask(SIG_UNBLOCK, &timer_signals, NULL);   /* a timer signal that came meanwhile is delivered here */
}

/* The engine's periodic flush. In digest mode it comes only at the cap: the segment's lines
 * so far go into its digest and are dropped (a death in this segment says `#dropped`). */
void archeo_rt_flush(void)
{
    size_t n = archeo_out.committed;
    if (!digest_mode) {
        write_committed();
        return;
    }
    if (!n)
        return;
    fold(archeo_out.buf, n);
    d_dropped = 1;
    memmove(archeo_out.buf, archeo_out.buf + n, archeo_out.len - n);
    archeo_out.len -= n;
    archeo_out.committed = 0;
}

void archeo_rt_segment_end(void)
{
    char line[64];
    int n;
    if (!digest_mode)
        return;
    fold(archeo_out.buf, archeo_out.committed);
    n = snprintf(line, sizeof(line), "#digest %08x %08x %llu\n", d_crc, d_adler, d_bytes);
    archeo_out.len = archeo_out.committed = 0;   /* the lines are in the digest now */
    memcpy(archeo_out.buf, line, (size_t)n);
    archeo_out.len = archeo_out.committed = (size_t)n;
    write_committed();
    digest_reset();
}

void archeo_rt_segment_begin(void)
{
    if (digest_mode)
        write_committed();   /* the `w` line: from here on the buffer holds this segment only */
}

void archeo_rt_finish(void)
{
    write_committed();
}

void archeo_rt_reserve(size_t need)
{
    if (archeo_out.len + need <= archeo_out.cap)
        return;
    if (!digest_mode || archeo_out.committed >= archeo_out.flush_at)
        archeo_rt_flush();   /* make room by writing (or, past the digest cap, folding) the complete lines */
    if (archeo_out.len + need <= archeo_out.cap)
        return;
    /* one line longer than the buffer (a dump of a big tree), or a digest-mode segment: grow.
     * Copied a megabyte at a time with a heartbeat: realloc may copy megabytes in one call,
     * which the watchdog would take for a stuck operation. */
    size_t cap = archeo_out.cap * 2, off;
    while (cap < archeo_out.len + need)
        cap *= 2;
    char *buf = malloc(cap);
    if (!buf)
        archeo_rt_fail(ARCHEO_EXIT_OOM, "out of memory for the trace", 0);
    for (off = 0; off < archeo_out.len; off += (size_t)1 << 20) {
        size_t n = archeo_out.len - off < ((size_t)1 << 20) ? archeo_out.len - off : (size_t)1 << 20;
        memcpy(buf + off, archeo_out.buf + off, n);
        archeo_beat++;
    }
    {
        char *old = archeo_out.buf;   /* switch first: a signal handler may read the buffer */
        archeo_out.buf = buf;
        archeo_out.cap = cap;
        free(old);
    }
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
void archeo_rt_flush_for_death(void)
{
    size_t n = archeo_out.committed;
    if (digest_mode && d_dropped)
        write_all("#dropped\n", 9);
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
    archeo_rt_flush_for_death();
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

/* The CPU budgets of one segment (--cpu, --cpu-ms) and the watchdog (--stall-ms); 0 when
 * not asked for. */
static rlim_t cpu_seconds, cpu_hard;
static unsigned long cpu_ms, stall_ms;
static volatile long long segment_start_us;   /* process CPU time when the segment began */
static unsigned long seen_beat;
static long long beat_cpu_us;   /* process CPU time when the heartbeat last moved */
static int strikes;             /* ticks that found it stuck since, in a row */

static long long cpu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* async-signal-safe */
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The budget and the watchdog, at every tick of the timer: over the segment's budget, or
 * stuck in one operation, is a hang (on_fatal: flush, `SIGNAL 27`, die by SIGPROF, whichever
 * timer ticked). */
static void on_tick(int sig)
{
    long long now = cpu_now_us();
    (void)sig;
    if (cpu_ms && now - segment_start_us >= (long long)cpu_ms * 1000LL) {
        on_fatal(SIGPROF);   /* returns with SIGPROF pending at its default action: death on return */
        return;
    }
    if (stall_ms) {
        if (archeo_beat != seen_beat) {
            seen_beat = archeo_beat;
            beat_cpu_us = now;
            strikes = 0;
        } else if (now - beat_cpu_us >= (long long)stall_ms * 1000LL && ++strikes >= 2)
            on_fatal(SIGPROF);   /* still stuck a tick after it was first seen stuck */
    }
}

/* With the watchdog: a wall-clock timer (ITIMER_REAL, high resolution) every millisecond,
 * which measures CPU time itself, so a stuck operation is caught after --stall-ms of CPU
 * rather than at the kernel's next 4 ms CPU tick; a process waiting for a core uses no CPU
 * and is not stuck. Without it: ITIMER_PROF once per budget. */
static void start_timer(void)
{
    struct itimerval it;
    long period_us = stall_ms ? 1000L : (long)cpu_ms * 1000L;
    segment_start_us = beat_cpu_us = cpu_now_us();
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = it.it_interval.tv_sec = (time_t)(period_us / 1000000L);
    it.it_value.tv_usec = it.it_interval.tv_usec = (suseconds_t)(period_us % 1000000L);
    setitimer(stall_ms ? ITIMER_REAL : ITIMER_PROF, &it, NULL);
}

static void arm_timer(void)
{
    struct sigaction sa;
    if (!stall_ms && !cpu_ms)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(stall_ms ? SIGALRM : SIGPROF, &sa, NULL);
    start_timer();
}

/* --step-limit N, in a program whose revision was compiled with -fsanitize-coverage=trace-pc
 * (archeo/build_steps.py; only a confirming run uses one): the compiler calls this at every
 * basic block of the revision's code, and more than N blocks without a heartbeat (one call
 * into the revision that never returns) is a hang, ended exactly as the watchdog ends one.
 * Why count: a stuck operation is then told by a number that is the same on every machine
 * and at any load, where the watchdog's CPU time is a sample (archeo/confirm.py); and a real
 * endless loop is stopped after ~a millisecond instead of the confirming watchdog's 40. In
 * every other program nothing calls it and the limit is never read. */
static unsigned long step_limit, steps, steps_beat;

void __sanitizer_cov_trace_pc(void)
{
    if (archeo_beat != steps_beat) {
        steps_beat = archeo_beat;
        steps = 0;
    } else if (++steps > step_limit && step_limit) {
        static const char said[] = "archeo-harness: step limit\n";   /* how confirm.py tells the count from a budget */
        step_limit = 0;   /* once: the flush below runs no revision code, but be sure */
        if (write(2, said, sizeof(said) - 1) < 0) {   /* nothing to do: the ending says hang anyway */
        }
        on_fatal(SIGPROF);
    }
}

void archeo_rt_segment(void)
{
    if (cpu_ms && !stall_ms)
        start_timer();   /* a fresh countdown of the whole budget */
    else if (cpu_ms)
        segment_start_us = cpu_now_us();   /* a fresh budget, checked at the watchdog's ticks */
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

/* Or join the executor's own (--net-fd, and --user-fd when it lives in a user namespace of
 * its own: not root): one empty network namespace made once per executor by a holder run
 * (--net-holder) and kept open by execute.py. Why: making a network namespace and tearing
 * it down again cost ~0.7 ms of CPU a run here (several times the whole sandbox), joining
 * one costs microseconds (bench/README.md). Returns 0, or the errno that said no (the
 * caller then makes one of its own, as before). */
static int join_network(int net_fd, int user_fd)
{
    if (user_fd >= 0 && setns(user_fd, CLONE_NEWUSER) != 0)
        return errno;
    if (setns(net_fd, CLONE_NEWNET) != 0)
        return errno;
    return 0;
}

/* The holder (--net-holder): says on stdout whether it left the network, then waits for
 * stdin's end, so execute.py can open /proc/<pid>/ns/net meanwhile; then exits. It is done
 * inside the setting up, so with the sandbox no line of the revision has run. */
static void hold_network(int err)
{
    const char *what = err ? strerror(err) : "isolated";
    char c;
    if (write(1, "net-holder ", 11) < 0 || write(1, what, strlen(what)) < 0 || write(1, "\n", 1) < 0)
        _exit(1);
    while (read(0, &c, 1) > 0 || errno == EINTR)
        ;
    _exit(0);
}

static char *read_stdin(size_t *size)
{
    struct stat st;
    size_t cap = 1 << 20, n = 0;
    char *buf;
    /* A file (execute.py passes an in-memory one) says its size: one allocation, no copying
     * realloc for the watchdog to take for a stall. A pipe grows the buffer as it reads. */
    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
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
        archeo_beat++;
    }
    *size = n;
    return buf;
}

/* Options that take a value (skipped as such by both loops over the options below). */
static int takes_value(const char *a)
{
    static const char *const with_value[] = {"--cpu", "--cpu-ms", "--stall-ms", "--digest-cap", "--segments",
                                             "--as", "--fsize", "--fs-layer", "--net-fd", "--user-fd",
                                             "--step-limit"};
    size_t i;
    for (i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
        if (!strcmp(a, with_value[i]))
            return 1;
    return 0;
}

/* The confinement the options ask for: its own session, the resource limits (--cpu,
 * --segments, --as, --fsize; no core), no network (--no-net: the namespace of --net-fd when
 * given and joinable, else a new one; the fds are closed either way). Applied once, before any of
 * the revision's code runs: sandbox_rt.c calls this from `.preinit_array` before it installs
 * its filter (so the filter need not allow any of these calls, and constructors run limited
 * and offline too); main calls it again, which does nothing the second time (it does the work
 * when the sandbox was not installed: --no-sandbox). */
static int set_up, no_net, net_errno = -1;

void archeo_rt_setup(int argc, char **argv)
{
    unsigned long segments = 1;
    int i, net_fd = -1, user_fd = -1, holder = 0;
    if (set_up)
        return;
    set_up = 1;
    setsid();   /* our own session and process group, which execute.py kills whole at the wall clock */
    limit(RLIMIT_CORE, 0, 0);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--no-net"))
            no_net = 1;
        else if (!strcmp(a, "--net-holder"))
            holder = 1;
        else if (!strcmp(a, "--net-fd"))
            net_fd = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--user-fd"))
            user_fd = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--cpu"))
            cpu_seconds = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--segments")) {
            segments = strtoul(v, NULL, 10);
            if (!segments)
                segments = 1;
        } else if (!strcmp(a, "--as")) {
#ifndef ARCHEO_SANITIZE   /* ASan reserves terabytes of shadow: an address-space limit breaks it */
            rlim_t mb = strtoul(v, NULL, 10);
            limit(RLIMIT_AS, mb << 20, mb << 20);
#endif
        } else if (!strcmp(a, "--fsize")) {
            rlim_t b = strtoul(v, NULL, 10);
            limit(RLIMIT_FSIZE, b, b);
        }
        if (takes_value(a))
            i++;
    }
    if (cpu_seconds) {   /* SIGXCPU at the soft limit; SIGKILL a second later (per segment) */
        cpu_hard = (cpu_seconds + 1) * (rlim_t)segments;
        limit(RLIMIT_CPU, cpu_seconds, cpu_hard);
    }
    if (no_net && (net_fd < 0 || join_network(net_fd, user_fd) != 0))
        net_errno = leave_network();
    else if (no_net)
        net_errno = 0;
    if (net_fd > 2)   /* not for the program to keep (a bad number: EBADF, nothing closed) */
        close(net_fd);
    if (user_fd > 2)
        close(user_fd);
    if (holder)
        hold_network(no_net ? net_errno : EINVAL);
}

int main(int argc, char **argv)
{
    int info = 0, i;
    size_t size;
    char *batch;

    archeo_rt_setup(argc, argv);   /* done already, from preinit, unless the sandbox is off */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--info"))
            info = 1;
        else if (!strcmp(a, "--cpu-ms"))
            cpu_ms = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--step-limit"))
            step_limit = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--stall-ms")) {
#ifndef ARCHEO_SANITIZE   /* a sanitizer's report (symbolising stacks) is long work without a heartbeat */
            stall_ms = strtoul(v, NULL, 10);
#endif
        } else if (!strcmp(a, "--digest"))
            digest_mode = 1;
        else if (!strcmp(a, "--digest-cap")) {
            digest_cap = strtoul(v, NULL, 10);
            if (digest_cap < 64)
                digest_cap = 64;
        } else if (!takes_value(a) && strcmp(a, "--no-net") && strcmp(a, "--no-sandbox") && strcmp(a, "--sandbox-probe") &&
                   strcmp(a, "--net-holder")) {
            fprintf(stderr, "archeo-harness: unknown option %s\n", a);
            return ARCHEO_EXIT_BATCH;
        }
        if (takes_value(a))
            i++;   /* its value (the setting-up options' were read by archeo_rt_setup) */
    }
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
    archeo_out.flush_at = ARCHEO_FLUSH_EVERY;
    if (digest_mode) {
        crc_init();
        digest_reset();
        archeo_out.flush_at = digest_cap;
    }
    sigemptyset(&timer_signals);
    sigaddset(&timer_signals, SIGPROF);
    sigaddset(&timer_signals, SIGALRM);
    sigaddset(&timer_signals, SIGXCPU);
    install_handlers();
    arm_timer();   /* after the handlers: the budget counts from here, reading the batch included */
    batch = read_stdin(&size);
    return archeo_run(batch, size);
}
