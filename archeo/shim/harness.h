/*
 * archeo harness: the contract between the engine (harness.c) and its runtime (harness_rt.c).
 *
 * Why two translation units: the engine is compiled like the revision itself, with -nostdinc
 * against our stub kernel headers and the revision's own rbtree.h, so it cannot see libc.
 * Everything that needs libc (reading stdin, write(2), signals, rlimits, unshare) lives in the
 * runtime, which is compiled with the system headers. This header uses compiler builtins only,
 * so both sides can include it.
 *
 * Our own code (MIT), not taken from any kernel.
 */
#ifndef ARCHEO_HARNESS_H
#define ARCHEO_HARNESS_H

/* The trace being written. Only bytes before `committed` are whole result lines; that is
 * what a fatal-signal handler may flush, so a trace never ends in half a line. */
struct archeo_out {
    char *buf;
    __SIZE_TYPE__ len;                  /* bytes in buf */
    __SIZE_TYPE__ cap;
    volatile __SIZE_TYPE__ committed;   /* end of the last complete line */
    volatile __SIZE_TYPE__ flushed;     /* bytes of buf already written by a flush in progress */
    volatile int flushing;
    __SIZE_TYPE__ flush_at;             /* flush when `committed` reaches this (digest mode: the cap) */
};

extern struct archeo_out archeo_out;

/* The line just written is whole: move `committed` past it. The fence keeps the compiler from
 * sinking the line's (non-volatile) byte stores below the volatile store, where a signal
 * handler would flush bytes not written yet. It costs no instruction. */
#define ARCHEO_LINE_DONE()                       \
    do {                                         \
        __atomic_signal_fence(__ATOMIC_RELEASE); \
        archeo_out.committed = archeo_out.len;   \
    } while (0)

/* The engine's heartbeat: bumped for every operation and every step of its own walks, so the
 * runtime's watchdog can tell an operation that never ends from a long batch (--stall-ms). */
extern volatile unsigned long archeo_beat;
#define ARCHEO_BEAT() (archeo_beat++)

/* Flush at least every this many bytes (docs/protocol.md). */
#define ARCHEO_FLUSH_EVERY 65536

/* runtime (harness_rt.c) */
void archeo_rt_flush(void);                           /* write the committed lines */
void archeo_rt_reserve(__SIZE_TYPE__ need);           /* room for `need` more bytes */
void *archeo_rt_calloc(__SIZE_TYPE__ n, __SIZE_TYPE__ size);   /* never returns NULL */
__attribute__((noreturn)) void archeo_rt_fail(int code, const char *what, unsigned long line);
void archeo_rt_segment(void);                         /* `w`: a new segment, its CPU budgets re-armed */
void archeo_rt_segment_end(void);                     /* the segment's lines are done (digest mode: say its digest) */
void archeo_rt_segment_begin(void);                   /* the next segment starts after what was written */
void archeo_rt_finish(void);                          /* write everything: the run is over */
void archeo_rt_flush_for_death(void);                 /* the committed lines, from a fatal signal's handler */

/* engine (harness.c) */
int archeo_run(const char *in, __SIZE_TYPE__ n);      /* the exit status */
extern const unsigned long archeo_node_size;
extern const char archeo_ops[];
extern const char archeo_commit[];

/* exit statuses of a run that did not crash */
#define ARCHEO_EXIT_BATCH 2   /* the batch is malformed */
#define ARCHEO_EXIT_OOM 3     /* the pool could not be allocated */

#endif
