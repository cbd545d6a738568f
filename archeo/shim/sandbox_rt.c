/*
 * archeo sandbox runtime: nothing the code under test does reaches the machine.
 *
 * Linked into every program archeo builds (archeo/build.py), beside the harness runtime.
 * Why here and why so early: the revision is untrusted (any git history can be pointed at),
 * and its code can run before `main` (a constructor). So the confinement is installed from
 * `.preinit_array`, which the dynamic loader runs before every constructor of the program;
 * archeo/elfcheck.py refuses a program whose revision code could run earlier still (its own
 * `.preinit_array`, IFUNC resolvers, symbols that interpose libc).
 *
 * Two layers (docs/security.md):
 *
 * 1. Landlock, where the kernel has it: a ruleset that handles every file-system right and
 *    grants none, so no path can be opened, created, removed or executed (stdin and stdout
 *    are already open); on ABI 4+ no TCP bind/connect; on ABI 6+ no signal to a process
 *    outside the program and no abstract unix socket. Where the kernel has no Landlock: a
 *    private mount namespace rooted at the (empty, private) working directory.
 * 2. seccomp-bpf, one filter, from preinit: only the system calls the harness needs to run
 *    (bench/measure_syscalls.py measured the set; sanitizer builds measure larger). What only
 *    setting up needs (its session, the resource limits, leaving the network) is done first,
 *    here, before the filter (harness_rt.c's archeo_rt_setup), so the filter never allows it:
 *    not to the operations, not to a constructor. (It used to be two filters, the second
 *    taking the setup calls away once main had set up; one filter costs half as much to
 *    install: the kernel JIT-compiles each and runs it over every call number to cache its
 *    answers.) A system call outside the set traps (SIGSYS): the
 *    handler flushes the committed trace, writes `SIGNAL 31` and on stderr
 *    `archeo-sandbox: denied system call <nr>`, and the program dies by SIGSYS, which
 *    archeo/execute.py reports as crash kind `sandbox: <name>`.
 *
 * Options read here (the harness ignores them): --no-sandbox (run unconfined: the risk is
 * accepted by whoever passes it), --sandbox-probe (print the layers in force and exit before
 * any constructor runs), --fs-layer mountns (use the fallback layer even where Landlock is
 * available, for tests). Without --no-sandbox, a machine where seccomp cannot be installed
 * runs nothing: exit status 4 and one line on stderr.
 *
 * Our own code (MIT).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archeo_landlock.h"

#define EXIT_NO_SANDBOX 4   /* archeo/execute.py: the machine cannot confine the program */

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#endif

/* bench/measure_syscalls.py builds with -DARCHEO_SANDBOX_MEASURE: the filter is installed
 * (so strace shows where it begins) but allows everything. */
#ifdef ARCHEO_SANDBOX_MEASURE
#define DENY SECCOMP_RET_ALLOW
#else
#define DENY SECCOMP_RET_TRAP
#endif

void archeo_rt_flush_for_death(void) __attribute__((weak));   /* harness_rt.c */
void archeo_rt_setup(int argc, char **argv) __attribute__((weak));   /* harness_rt.c: session, limits, network */
extern sigset_t archeo_timer_signals __attribute__((weak));    /* harness_rt.c: masked during a flush */

static pid_t own_pid;
static char layers[64];   /* what is in force, for --sandbox-probe */

/* ---------------------------------------------------------------- output without libc state */
static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = syscall(SYS_write, fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void put_number(int fd, unsigned long v)
{
    char buf[24];
    int i = (int)sizeof(buf) - 1;
    buf[i] = 0;
    do
        buf[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i);
    put(fd, buf + i);
}

static void add_layer(const char *name)
{
    if (layers[0])
        strncat(layers, "+", sizeof(layers) - strlen(layers) - 1);
    strncat(layers, name, sizeof(layers) - strlen(layers) - 1);
}

/* ---------------------------------------------------------------- the system-call sets
 * Measured by bench/measure_syscalls.py (strace over every kind of run: small and large
 * batches, digest mode, segments, a crash, a hang, --info), not guessed. A rule may require
 * an argument: `arg` is its index, `op` EQ or NE, compared with `val` on the low 32 bits
 * (every argument tested here is an int, which is all the kernel reads of it either). */
enum { ANY, EQ, NE, EQ2, NOBITS, PTR };   /* NOBITS: (arg & val) == 0; PTR: all 64 bits */
struct rule {
    int nr;
    int op;
    int arg;
    unsigned int val;
    int arg2;              /* EQ2: a second argument that must equal val2 */
    unsigned int val2;
};
#define PID_SELF 0xffffffffu   /* replaced by the program's pid when the filter is made */
#define TIMER_SET 1u           /* PTR: &archeo_timer_signals (0: NULL) */
#define R(name) {SYS_##name, ANY, 0, 0, 0, 0}

/* Running: reading the batch, writing the trace, memory, clocks, the CPU budgets, dying by
 * a signal (raise: getpid, gettid, tgkill to itself), exit; and what main still does to set
 * up, harmless to allow: its alternate signal stack, and the random bytes malloc's first
 * call asks for. rt_sigprocmask only for the
 * harness's own set of timer signals: with SIGSYS blocked the kernel kills without running
 * the handler and the call would go unnamed, so blocking any other set is itself the call
 * that is named (glibc's system() and posix_spawn block every signal before they clone). */
static const struct rule run_rules[] = {
    R(read), R(write), R(fstat), R(newfstatat),
    R(mmap), R(munmap), R(mremap), R(brk), R(mprotect), R(madvise),
    R(clock_gettime), R(getrusage), R(setitimer),
    R(rt_sigreturn), R(getpid), R(gettid),
    {SYS_rt_sigprocmask, PTR, 1, TIMER_SET, 0, 0},   /* the harness's flush: its timer signals only */
    {SYS_rt_sigprocmask, PTR, 1, 0, 0, 0},           /* asking, changing nothing */
    {SYS_tgkill, EQ, 0, PID_SELF, 0, 0},         /* raise: to itself only */
    {SYS_rt_sigaction, NE, 0, SIGSYS, 0, 0},     /* a dying handler restores the default action */
    {SYS_prlimit64, EQ2, 0, 0, 1, RLIMIT_CPU},   /* the CPU soft limit moved at each segment */
    R(exit_group),
    R(sigaltstack), R(getrandom),
#ifdef ARCHEO_SANITIZE
    /* The sanitizer runtimes, measured the same way: their allocator, and their report,
     * which tries to read /proc/self/maps and the executable (read-only opens, which the
     * file-system layer then refuses: the report comes unsymbolised) and asks whether
     * stderr is a terminal (TCGETS only: no TIOCSTI). */
    R(futex), R(readlink), R(rt_sigprocmask), {SYS_ioctl, EQ, 1, 0x5401, 0, 0},
    {SYS_openat, NOBITS, 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0, 0},
#ifdef SYS_open
    {SYS_open, NOBITS, 1, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0, 0},
#endif
#endif
};

/* ---------------------------------------------------------------- filters */
#define MAX_FILTER 512
struct prog {
    struct sock_filter f[MAX_FILTER];
    unsigned short n;
};

static void emit(struct prog *p, unsigned short code, unsigned char jt, unsigned char jf, unsigned int k)
{
    if (p->n < MAX_FILTER)
        p->f[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

static void emit_rule(struct prog *p, const struct rule *r)
{
    unsigned int val = r->val == PID_SELF ? (unsigned int)own_pid : r->val;
    unsigned int nr = offsetof(struct seccomp_data, nr);
    switch (r->op) {
    case ANY:   /* nr == rule? allow : next rule */
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (unsigned int)r->nr);
        emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
        return;
    case EQ:
    case NE:   /* [nr?][load arg][arg == val?][allow][reload nr: the next rules may allow it] */
    case NOBITS:
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (unsigned int)r->nr);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(r->arg));
        if (r->op == NOBITS)
            emit(p, BPF_JMP | BPF_JSET | BPF_K, 1, 0, val);
        else
            emit(p, BPF_JMP | BPF_JEQ | BPF_K, r->op == EQ ? 0 : 1, r->op == EQ ? 1 : 0, val);
        emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, nr);
        return;
    case PTR: {
        unsigned long long want = r->val == TIMER_SET ? (unsigned long long)(unsigned long)&archeo_timer_signals : 0;
        if (r->val == TIMER_SET && !want)
            return;   /* not linked with the harness runtime */
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, (unsigned int)r->nr);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(r->arg));
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (unsigned int)want);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(r->arg) + 4);
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (unsigned int)(want >> 32));
        emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, nr);
        return;
    }
    case EQ2:
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, (unsigned int)r->nr);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(r->arg));
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, val);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(r->arg2));
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, r->val2);
        emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
        emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, nr);
        return;
    }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_CALLS 64

/* The rules for one call number; then a trap. */
static void emit_call(struct prog *p, int nr)
{
    size_t j;
    for (j = 0; j < COUNT(run_rules); j++)
        if (run_rules[j].nr == nr) {
            if (run_rules[j].op == ANY) {
                emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
                return;
            }
            emit_rule(p, &run_rules[j]);
        }
    emit(p, BPF_RET | BPF_K, 0, 0, DENY);
}

/* A search tree over the sorted call numbers: the kernel runs every new filter once per
 * call number to cache its answers, so a tree (a few tests per number) installs several
 * times faster than a chain of all the rules. Leaves of up to 4 numbers. */
static void emit_tree(struct prog *p, const int *nrs, size_t n)
{
    size_t i, mid;
    if (n <= 4) {
        for (i = 0; i < n; i++) {
            unsigned short at = p->n;
            emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (unsigned int)nrs[i]);
            emit_call(p, nrs[i]);
            if (at < MAX_FILTER)
                p->f[at].jf = (unsigned char)(p->n - at - 1);
        }
        emit(p, BPF_RET | BPF_K, 0, 0, DENY);
        return;
    }
    mid = n / 2;
    {
        unsigned short at = p->n;
        emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 0, (unsigned int)nrs[mid]);
        emit_tree(p, nrs, mid);
        if (at < MAX_FILTER) {
            if (p->n - at - 1 > 255)
                p->n = MAX_FILTER;   /* too far to jump: install() says E2BIG */
            else
                p->f[at].jt = (unsigned char)(p->n - at - 1);
        }
        emit_tree(p, nrs + mid, n - mid);
    }
}

/* The filter: the architecture must be ours (no 32-bit or x32 entry points around the
 * numbers); the run set is allowed, anything else traps. */
static void the_filter(struct prog *p)
{
    int nrs[MAX_CALLS];
    size_t n = 0, i, j;
    for (i = 0; i < COUNT(run_rules); i++) {
        int nr = run_rules[i].nr;
        for (j = 0; j < n && nrs[j] != nr; j++)
            ;
        if (j == n && n < MAX_CALLS) {   /* insert, keeping nrs sorted */
            for (j = n++; j > 0 && nrs[j - 1] > nr; j--)
                nrs[j] = nrs[j - 1];
            nrs[j] = nr;
        }
    }
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SANDBOX_ARCH);
    emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
    emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
    emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);   /* x32 numbers */
    emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
#endif
    emit_tree(p, nrs, n);
}

static int install(void (*make)(struct prog *))
{
    static struct prog p;
    struct sock_fprog fprog;
    p.n = 0;
    make(&p);
    if (p.n >= MAX_FILTER)
        return E2BIG;
    fprog.len = p.n;
    fprog.filter = p.f;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
        return errno;
    return 0;
}

/* ---------------------------------------------------------------- SIGSYS: the report */
static void on_denied(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    if (archeo_rt_flush_for_death)
        archeo_rt_flush_for_death();
    put(1, "SIGNAL ");
    put_number(1, (unsigned long)sig);
    put(1, "\n");
    put(2, "archeo-sandbox: denied system call ");
    put_number(2, (unsigned long)info->si_syscall);
    put(2, "\n");
    /* SA_RESETHAND made the action the default again: SIGSYS kills us on return */
    syscall(SYS_tgkill, own_pid, syscall(SYS_gettid), SIGSYS);
}

/* SA_ONSTACK: on the harness's alternate stack once it has set one up (harness_rt.c). */
static int catch_denied(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_denied;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    return sigaction(SIGSYS, &sa, NULL) ? errno : 0;
}

/* ---------------------------------------------------------------- the file-system layer */
/* Landlock with no rule: no path is reachable (archeo_landlock.h). */
static int landlock(void)
{
    return archeo_landlock(NULL, NULL);
}

/* The fallback: a private mount namespace whose root is the working directory (archeo gives
 * each run an empty private one), inside a new user namespace when we are not root. */
static int mount_layer(void)
{
    if (unshare(CLONE_NEWNS | (geteuid() == 0 ? 0 : CLONE_NEWUSER)) != 0)
        return errno;
    if (chroot(".") != 0 || chdir("/") != 0)
        return errno;
    return 0;
}

/* ---------------------------------------------------------------- entry points */
static int has_arg(int argc, char **argv, const char *want, const char **value)
{
    int i;
    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], want)) {
            if (value)
                *value = i + 1 < argc ? argv[i + 1] : "";
            return 1;
        }
    return 0;
}

static void refuse(const char *what, int err)
{
    put(2, "archeo-sandbox: cannot confine the program: ");
    put(2, what);
    put(2, ": ");
    put(2, strerror(err));
    put(2, "\n");
    _exit(EXIT_NO_SANDBOX);
}

static void archeo_sandbox_preinit(int argc, char **argv, char **envp)
{
    const char *fs_layer = "";
    int probe = has_arg(argc, argv, "--sandbox-probe", NULL), err;
    (void)envp;
    own_pid = getpid();
    if (has_arg(argc, argv, "--no-sandbox", NULL)) {
        if (probe) {
            put(1, "sandbox none\n");
            _exit(0);
        }
        return;
    }
#ifndef SANDBOX_ARCH
    refuse("seccomp", ENOSYS);   /* no filter written for this architecture */
#else
    if (archeo_rt_setup)   /* what only setting up needs, done before the filter (see the top) */
        archeo_rt_setup(argc, argv);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        refuse("no_new_privs", errno);
    has_arg(argc, argv, "--fs-layer", &fs_layer);
    err = strcmp(fs_layer, "mountns") ? landlock() : ENOSYS;
    if (!err)
        add_layer("landlock");
    else if (!mount_layer())
        add_layer("mountns");
    if ((err = catch_denied()) != 0)
        refuse("SIGSYS handler", err);
    if ((err = install(the_filter)) != 0)
        refuse("seccomp", err);
    add_layer("seccomp");
#endif
    if (probe) {
        put(1, "sandbox ");
        put(1, layers);
        put(1, "\n");
        _exit(0);
    }
}

__attribute__((section(".preinit_array"), used))
static void (*const archeo_sandbox_preinit_entry)(int, char **, char **) = archeo_sandbox_preinit;
