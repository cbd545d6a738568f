/*
 * archeo harness engine: run one batch (docs/protocol.md) on one revision's red-black tree.
 *
 * Compiled like the revision itself (gcc -std=gnu99 -O2 -nostdinc, our stub kernel headers,
 * the revision's own rbtree.h), so it calls the revision exactly as kernel code would. What
 * differs between API eras (type names, how to read a node's parent and colour, which
 * functions exist) comes from archeo_config.h, generated per revision by archeo/api.py.
 *
 * The engine never trusts the tree: every walk it makes itself (search, dump, verify) is
 * bounded by the pool size, so a cycle made by a broken revision ends in a result line rather
 * than in a harness hang.
 *
 * Our own code (MIT), not taken from any kernel.
 */
#include "archeo_config.h"
#include "harness.h"

#ifndef ARCHEO_COMMIT
#define ARCHEO_COMMIT "unknown"
#endif

const unsigned long archeo_node_size = sizeof(archeo_node_t);
const char archeo_ops[] = ARCHEO_OPS;
const char archeo_commit[] = ARCHEO_COMMIT;

/* An entry embeds its node, as kernel users do; the key sits before the node so that, in a
 * sanitizer build where each entry is its own allocation, a write past the node leaves the
 * allocation and is reported. */
struct archeo_item {
    unsigned int key;
    archeo_node_t node;
};

#define KEY(n) (ARCHEO_ENTRY((n), struct archeo_item, node)->key)

static archeo_root_t root;
static unsigned long keyspace, poolsize;
static unsigned char *cur;      /* current slot per key */
static unsigned char *present;  /* is the current node in the tree (the harness's own record) */

#ifdef ARCHEO_SANITIZE
/* One allocation per entry, made on first use (zeroed, like the pool), so ASan sees node bounds. */
static struct archeo_item **items;

static archeo_node_t *node_of(unsigned int k, unsigned int slot)
{
    struct archeo_item **at = &items[2UL * k + slot];
    if (!*at) {
        *at = archeo_rt_calloc(1, sizeof(struct archeo_item));
        (*at)->key = k;
    }
    return &(*at)->node;
}
#else
static struct archeo_item *pool;

#define node_of(k, slot) (&pool[2UL * (k) + (slot)].node)
#endif

#define NODE(k) node_of((k), cur[k])

/* scratch for the walks: a preorder stack of nodes, or in-order frames with black counts */
struct frame {
    archeo_node_t *node;
    unsigned long blacks;
};
static struct frame *frames;

/* ---------------------------------------------------------------- output */
#define ROOM(n)                                                   \
    do {                                                          \
        if (__builtin_expect(archeo_out.len + (n) > archeo_out.cap, 0)) \
            archeo_rt_reserve(n);                                 \
    } while (0)

static inline void put(const char *s, unsigned long n)
{
    ROOM(n);
    __builtin_memcpy(archeo_out.buf + archeo_out.len, s, n);
    archeo_out.len += n;
}

#define PUTS(lit) put(lit, sizeof(lit) - 1)

/* Decimal digits straight into the buffer, two at a time (the dump writes megabytes). */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline char *fmt_uint(char *o, unsigned long v)
{
    int n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 :
            v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 20;
    char *e;
    if (n == 20) {   /* never for keys; counts this large cannot happen either */
        char tmp[24];
        int i = sizeof(tmp);
        do {
            tmp[--i] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        __builtin_memcpy(o, tmp + i, sizeof(tmp) - i);
        return o + (sizeof(tmp) - i);
    }
    e = o + n;
    while (v >= 100) {
        unsigned long r = (v % 100) * 2;
        v /= 100;
        *--e = digit_pairs[r + 1];
        *--e = digit_pairs[r];
    }
    if (v >= 10) {
        *--e = digit_pairs[v * 2 + 1];
        *--e = digit_pairs[v * 2];
    } else
        *--e = (char)('0' + v);
    return o + n;
}

static inline void put_uint(unsigned long v)
{
    ROOM(24);
    archeo_out.len = (unsigned long)(fmt_uint(archeo_out.buf + archeo_out.len, v) - archeo_out.buf);
}

/* End the current result line: from here on a signal handler may flush it. */
static inline void end_line(void)
{
    ROOM(1);
    archeo_out.buf[archeo_out.len++] = '\n';
    ARCHEO_LINE_DONE();
    if (__builtin_expect(archeo_out.committed >= archeo_out.flush_at, 0))
        archeo_rt_flush();
}

#define LINE(lit)            \
    do {                     \
        PUTS(lit "\n");      \
        ARCHEO_LINE_DONE(); \
        if (__builtin_expect(archeo_out.committed >= archeo_out.flush_at, 0)) \
            archeo_rt_flush(); \
    } while (0)

static void key_line(archeo_node_t *n)
{
    if (!n) {
        LINE("nil");
        return;
    }
    put_uint(KEY(n));
    end_line();
}

/* ---------------------------------------------------------------- operations */
static void op_insert(unsigned int k)
{
    archeo_node_t **link = &root.rb_node, *parent = (archeo_node_t *)0, *node;
    unsigned long steps = 0;

    while (*link) {
        unsigned int pk;
        parent = *link;
        pk = KEY(parent);
        if (k < pk)
            link = &parent->rb_left;
        else if (k > pk)
            link = &parent->rb_right;
        else {
            LINE("dup");
            return;
        }
        ARCHEO_BEAT();
        if (__builtin_expect(++steps > poolsize, 0)) {
            LINE("cycle");
            return;
        }
    }
    node = NODE(k);
    rb_link_node(node, parent, link);
    rb_insert_color(node, &root);
    present[k] = 1;
    LINE("ok");
}

static void op_erase(unsigned int k)
{
    if (!present[k]) {
        LINE("absent");
        return;
    }
    rb_erase(NODE(k), &root);
    present[k] = 0;
    LINE("ok");
}

static void op_find(unsigned int k)
{
    archeo_node_t *n = root.rb_node;
    unsigned long steps = 0;

    while (n) {
        unsigned int nk = KEY(n);
        if (k < nk)
            n = n->rb_left;
        else if (k > nk)
            n = n->rb_right;
        else {
            LINE("1");
            return;
        }
        ARCHEO_BEAT();
        if (__builtin_expect(++steps > poolsize, 0)) {
            LINE("cycle");
            return;
        }
    }
    LINE("0");
}

static void op_replace(unsigned int k)
{
#ifdef ARCHEO_HAS_REPLACE_NODE
    archeo_node_t *victim, *fresh;
    if (!present[k]) {
        LINE("absent");
        return;
    }
    victim = node_of(k, cur[k]);
    fresh = node_of(k, cur[k] ^ 1u);
    rb_replace_node(victim, fresh, &root);
    cur[k] ^= 1u;
    LINE("ok");
#else
    (void)k;
    LINE("NA");
#endif
}

static void op_clear(unsigned int k)
{
#ifdef ARCHEO_HAS_CLEAR
    if (present[k]) {
        LINE("present");
        return;
    }
    ARCHEO_CLEAR(NODE(k));
    LINE("ok");
#else
    (void)k;
    LINE("NA");
#endif
}

static void op_empty(unsigned int k)
{
#ifdef ARCHEO_HAS_EMPTY
    if (ARCHEO_EMPTY(NODE(k)))
        LINE("1");
    else
        LINE("0");
#else
    (void)k;
    LINE("NA");
#endif
}

/* `d`: preorder, `K:r`/`K:b` per node, `.` per empty child. A walk that reaches more nodes
 * than the pool holds is cut with ` !cycle` (the reference can never produce that). */
static void op_dump(void)
{
    archeo_node_t **stack = (archeo_node_t **)frames;   /* 2 pointers per frame: room enough */
    unsigned long sp = 0, count = 0;
    char *o, *limit;

    ROOM(64);
    o = archeo_out.buf + archeo_out.len;
    limit = archeo_out.buf + archeo_out.cap - 32;
    *o++ = 'T';
    stack[sp++] = root.rb_node;
    while (sp) {
        archeo_node_t *n = stack[--sp];
        ARCHEO_BEAT();
        if (__builtin_expect(o > limit, 0)) {   /* make room; the buffer may move */
            archeo_out.len = (unsigned long)(o - archeo_out.buf);
            archeo_rt_reserve(64);
            o = archeo_out.buf + archeo_out.len;
            limit = archeo_out.buf + archeo_out.cap - 32;
        }
        *o++ = ' ';
        if (!n) {
            *o++ = '.';
            continue;
        }
        if (__builtin_expect(++count > poolsize, 0)) {
            __builtin_memcpy(o, "!cycle", 6);
            o += 6;
            break;
        }
        o = fmt_uint(o, KEY(n));
        *o++ = ':';
        *o++ = ARCHEO_IS_RED(n) ? 'r' : 'b';
        stack[sp++] = n->rb_right;
        stack[sp++] = n->rb_left;
    }
    archeo_out.len = (unsigned long)(o - archeo_out.buf);
    end_line();
}

/* `v`: the red-black invariants, checked on the C tree itself through the revision's own
 * accessors. One in-order walk gathers every check; they are reported in the protocol's
 * order (cycle, parent, order, root-red, red-red, black-height). */
static void op_verify(void)
{
    archeo_node_t *top = root.rb_node, *n;
    unsigned long count = 0, sp = 0, above = 0, height = 0;
    int have_height = 0, have_prev = 0;
    int bad_parent, bad_order = 0, bad_red = 0, bad_height = 0;
    unsigned int prev = 0;

    if (!top) {
        LINE("ok 0 0");
        return;
    }
    bad_parent = ARCHEO_PARENT(top) != (archeo_node_t *)0;
    n = top;
    for (;;) {
        while (n) {
            archeo_node_t *l = n->rb_left, *r = n->rb_right;
            int red = ARCHEO_IS_RED(n) ? 1 : 0;
            unsigned long b = above + (unsigned long)!red;

            ARCHEO_BEAT();
            if (++count > poolsize) {
                LINE("bad cycle");
                return;
            }
            if (l) {
                bad_parent |= ARCHEO_PARENT(l) != n;
                bad_red |= red && ARCHEO_IS_RED(l);
            }
            if (r) {
                bad_parent |= ARCHEO_PARENT(r) != n;
                bad_red |= red && ARCHEO_IS_RED(r);
            }
            if (!l || !r) {
                if (!have_height) {
                    height = b;
                    have_height = 1;
                } else if (height != b)
                    bad_height = 1;
            }
            frames[sp].node = n;
            frames[sp].blacks = b;
            sp++;
            n = l;
            above = b;
        }
        if (!sp)
            break;
        sp--;
        n = frames[sp].node;
        above = frames[sp].blacks;
        {
            unsigned int k = KEY(n);
            if (have_prev && !(prev < k))
                bad_order = 1;
            prev = k;
            have_prev = 1;
        }
        n = n->rb_right;
    }
    if (bad_parent)
        LINE("bad parent");
    else if (bad_order)
        LINE("bad order");
    else if (ARCHEO_IS_RED(top))
        LINE("bad root-red");
    else if (bad_red)
        LINE("bad red-red");
    else if (bad_height)
        LINE("bad black-height");
    else {
        PUTS("ok ");
        put_uint(count);
        PUTS(" ");
        put_uint(height);
        end_line();
    }
}

static void op_reset(void)
{
    unsigned long i;
    root.rb_node = (archeo_node_t *)0;
    for (i = 0; i < keyspace; i++) {
        present[i] = 0;
        ARCHEO_BEAT();
    }
    LINE("ok");
}

/* Every pool node as a fresh harness has it: zeroed, its key set. One node at a time with a
 * heartbeat, so the watchdog does not take a big wipe for a stuck operation. */
static void fresh_pool(void)
{
    unsigned long i;
#ifdef ARCHEO_SANITIZE
    for (i = 0; i < poolsize; i++) {   /* allocated on first use; a zeroed entry is a fresh one */
        if (items[i])
            __builtin_memset(&items[i]->node, 0, sizeof(archeo_node_t));
        ARCHEO_BEAT();
    }
#else
    for (i = 0; i < poolsize; i++) {
        __builtin_memset(&pool[i].node, 0, sizeof(archeo_node_t));
        pool[i].key = (unsigned int)(i >> 1);
        ARCHEO_BEAT();
    }
#endif
}

/* `w`: back to the state of a fresh harness with the same keyspace (docs/protocol.md): no
 * tree, every pool node zeroed, every key's current slot 0. The CPU budgets start again first,
 * so the wipe itself (and, in digest mode, the digest of the segment before) counts against
 * the next segment. */
static void op_wipe(void)
{
    archeo_rt_segment();
    archeo_rt_segment_end();
    __builtin_memset(&root, 0, sizeof(root));
    __builtin_memset(cur, 0, keyspace);
    __builtin_memset(present, 0, keyspace);
    fresh_pool();
    LINE("ok");
    archeo_rt_segment_begin();
}

/* ---------------------------------------------------------------- the batch */
static unsigned long parse_uint(const char **p, const char *end)
{
    const char *s = *p;
    unsigned long v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return ~0UL;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 0xffffffffUL)
            return ~0UL;
        s++;
    }
    *p = s;
    return v;
}

static int starts_with(const char *p, const char *end, const char *lit)
{
    while (*lit) {
        if (p >= end || *p != *lit)
            return 0;
        p++;
        lit++;
    }
    return 1;
}

static void setup(void)
{
    unsigned long i;
    poolsize = 2 * keyspace;
    cur = archeo_rt_calloc(keyspace, 1);
    present = archeo_rt_calloc(keyspace, 1);
    frames = archeo_rt_calloc(poolsize + 2, sizeof(struct frame));
#ifdef ARCHEO_SANITIZE
    items = archeo_rt_calloc(poolsize, sizeof(*items));
#else
    pool = archeo_rt_calloc(poolsize, sizeof(struct archeo_item));
    for (i = 0; i < poolsize; i++) {
        pool[i].key = (unsigned int)(i >> 1);
        ARCHEO_BEAT();
    }
#endif
    (void)i;
}

int archeo_run(const char *in, __SIZE_TYPE__ size)
{
    const char *p = in, *end = in + size;
    unsigned long line = 1;

    if (!starts_with(p, end, "archeo-batch 1 "))
        archeo_rt_fail(ARCHEO_EXIT_BATCH, "bad header, expected 'archeo-batch 1 <keyspace>'", 1);
    p += sizeof("archeo-batch 1 ") - 1;
    keyspace = parse_uint(&p, end);
    if (keyspace == ~0UL || keyspace < 1 || keyspace > 1048576)
        archeo_rt_fail(ARCHEO_EXIT_BATCH, "keyspace must be 1..1048576", 1);
    if (p < end && *p++ != '\n')
        archeo_rt_fail(ARCHEO_EXIT_BATCH, "bad header, expected 'archeo-batch 1 <keyspace>'", 1);
    setup();

    while (p < end) {
        char code = *p++;
        unsigned long k = 0;
        int keyed = code == 'i' || code == 'e' || code == 'f' || code == 'n' || code == 'p' ||
                    code == 'r' || code == 'c' || code == 'z';
        line++;
        ARCHEO_BEAT();
        if (keyed) {
            if (p >= end || *p++ != ' ')
                archeo_rt_fail(ARCHEO_EXIT_BATCH, "operation needs a key", line);
            k = parse_uint(&p, end);
            if (k >= keyspace)
                archeo_rt_fail(ARCHEO_EXIT_BATCH, "key missing or outside the keyspace", line);
        }
        if (p < end && *p++ != '\n')
            archeo_rt_fail(ARCHEO_EXIT_BATCH, "junk after the operation", line);

        switch (code) {
        case 'i': op_insert((unsigned int)k); break;
        case 'e': op_erase((unsigned int)k); break;
        case 'f': op_find((unsigned int)k); break;
        case 'n':
#ifdef ARCHEO_HAS_NEXT
            if (!present[k]) LINE("absent"); else key_line(rb_next(NODE(k)));
#else
            LINE("NA");
#endif
            break;
        case 'p':
#ifdef ARCHEO_HAS_PREV
            if (!present[k]) LINE("absent"); else key_line(rb_prev(NODE(k)));
#else
            LINE("NA");
#endif
            break;
        case '<':
#ifdef ARCHEO_HAS_FIRST
            key_line(rb_first(&root));
#else
            LINE("NA");
#endif
            break;
        case '>':
#ifdef ARCHEO_HAS_LAST
            key_line(rb_last(&root));
#else
            LINE("NA");
#endif
            break;
        case 'r': op_replace((unsigned int)k); break;
        case 'c': op_clear((unsigned int)k); break;
        case 'z': op_empty((unsigned int)k); break;
        case 'd': op_dump(); break;
        case 'v': op_verify(); break;
        case 'x': op_reset(); break;
        case 'w': op_wipe(); break;
        default:
            archeo_rt_fail(ARCHEO_EXIT_BATCH, "unknown operation", line);
        }
    }
    archeo_rt_segment_end();
    LINE("END");
    archeo_rt_finish();
    return 0;
}
