/*
 * archeo harness engine: run one batch (docs/protocol.md) on one revision's red-black tree.
 *
 * Compiled like the revision itself (gcc -std=gnu99 -O2 -nostdinc, our stub kernel headers,
 * the revision's own rbtree.h), so it calls the revision exactly as kernel code would. What
 * differs between API eras (type names, how to read a node's parent and colour, which
 * functions exist) comes from archeo_config.h, generated per revision by archeo/subjects/rbtree/api.py.
 *
 * The engine never trusts the tree: every walk it makes itself (search, dump, verify) is
 * bounded by the pool size, so a cycle made by a broken revision ends in a result line rather
 * than in a harness hang.
 *
 * Our own code (MIT), not taken from any kernel.
 */
#include "archeo_config.h"
#include "harness.h"

/* archeo_commit is defined apart (archeo-gen/archeo_commit.c, made by build.py): without the
 * commit id, revisions that share a header share this unit, and its compiled object. */
const unsigned long archeo_node_size = sizeof(archeo_node_t);
const char archeo_ops[] = ARCHEO_OPS;

/* An entry embeds its node, as kernel users do; the key sits before the node so that, in a
 * sanitizer build where each entry is its own allocation, a write past the node leaves the
 * allocation and is reported. */
struct archeo_item {
    unsigned int key;
    archeo_node_t node;
#ifdef ARCHEO_AUGMENTS
    unsigned long aug;          /* our augmentation: the size of the node's subtree */
#endif
};

#define KEY(n) (ARCHEO_ENTRY((archeo_node_t *)(n), struct archeo_item, node)->key)

#ifdef ARCHEO_HAS_CACHED
/* The cached ops keep the one tree in an rb_root_cached; every other op works on its rb_root
 * and the harness then sets the leftmost itself (cache_refresh), so only the cached ops can
 * make it wrong. */
static struct rb_root_cached croot;
#define root (croot.rb_root)
#else
static archeo_root_t root;
#endif
static unsigned long keyspace, poolsize;
static unsigned char *cur;      /* current slot per key */
static unsigned char *present;  /* is the current node in the tree (the harness's own record) */
static unsigned char *other_in; /* is the key's other slot in the tree too (rb_add duplicates) */

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

/* ---------------------------------------------------------------- the API groups' state */
/* The leftmost as the harness's own bounded walk finds it. */
static archeo_node_t *walk_first(void)
{
    archeo_node_t *n = root.rb_node;
    unsigned long steps = 0;
    while (n && n->rb_left && ++steps <= poolsize) {
        n = n->rb_left;
        ARCHEO_BEAT();
    }
    return n;
}

/* After an op that changed the tree other than through the cached API: the cache is right. */
static inline void cache_refresh(void)
{
#ifdef ARCHEO_HAS_CACHED
    croot.rb_leftmost = walk_first();
#endif
}

#ifdef ARCHEO_AUGMENTS
#define AUG(n) (ARCHEO_ENTRY((archeo_node_t *)(n), struct archeo_item, node)->aug)
static int aug_dirty = 1;       /* changed by ops that do not keep the augmentation */
static archeo_node_t **aug_order;

static unsigned long aug_compute(archeo_node_t *n)
{
    return 1 + (n->rb_left ? AUG(n->rb_left) : 0) + (n->rb_right ? AUG(n->rb_right) : 0);
}

/* Every node's value from scratch (children first), before an augmented op on a tree other
 * ops changed. A walk that finds more nodes than the pool leaves the tree dirty. */
static void aug_settle(void)
{
    archeo_node_t **stack = (archeo_node_t **)frames;
    unsigned long sp = 0, count = 0;
    if (root.rb_node)
        stack[sp++] = root.rb_node;
    while (sp) {
        archeo_node_t *n = stack[--sp];
        ARCHEO_BEAT();
        if (count >= poolsize)
            return;
        aug_order[count++] = n;
        if (n->rb_left)
            stack[sp++] = n->rb_left;
        if (n->rb_right)
            stack[sp++] = n->rb_right;
    }
    while (count)
        AUG(aug_order[count - 1]) = aug_compute(aug_order[count - 1]), count--;
    aug_dirty = 0;
}
#define AUG_TOUCH() (aug_dirty = 1)
#define AUG_READY() do { if (aug_dirty) aug_settle(); } while (0)
#else
#define AUG_TOUCH() ((void)0)
#define AUG_READY() ((void)0)
#endif

#ifdef ARCHEO_HAS_AUG_INSERT
#define ARCHEO_NEW_AUGMENT 1
#endif
#ifdef ARCHEO_HAS_AUG_ERASE
#define ARCHEO_NEW_AUGMENT 1
#endif
#ifdef ARCHEO_NEW_AUGMENT
/* The 2012 API's three callbacks, written here for our augmentation (as RB_DECLARE_CALLBACKS
 * would write them from aug_compute): propagate stops where a value is already right. */
static void aug_propagate(archeo_node_t *n, archeo_node_t *stop)
{
    unsigned long steps = 0;
    while (n && n != stop && ++steps <= poolsize) {
        unsigned long v = aug_compute(n);
        if (AUG(n) == v)
            break;
        AUG(n) = v;
        n = ARCHEO_PARENT(n);
    }
}

static void aug_copy(archeo_node_t *old, archeo_node_t *fresh)
{
    AUG(fresh) = AUG(old);
}

static void aug_rotate(archeo_node_t *old, archeo_node_t *fresh)
{
    AUG(fresh) = AUG(old);
    AUG(old) = aug_compute(old);
}

static const struct rb_augment_callbacks aug_callbacks = {
    .propagate = aug_propagate, .copy = aug_copy, .rotate = aug_rotate,
};
#endif

#if defined(ARCHEO_HAS_AUG2010_INSERT) || defined(ARCHEO_HAS_AUG2010_ERASE)
/* The 2010 API's callback: recompute one node from its children. */
static void aug_fix2010(archeo_node_t *n, void *data)
{
    (void)data;
    AUG(n) = aug_compute(n);
}
#endif

/* ---------------------------------------------------------------- operations */
/* Search by key from the root and link K's current node where it belongs (its leftmost-ness
 * in *leftmost). 0: linked, 1: the key is present (`dup`), 2: the walk went round (`cycle`). */
static inline int link_by_key(unsigned int k, int *leftmost)
{
    archeo_node_t **link = &root.rb_node, *parent = (archeo_node_t *)0;
    unsigned long steps = 0;

    *leftmost = 1;
    while (*link) {
        unsigned int pk;
        parent = *link;
        pk = KEY(parent);
        if (k < pk)
            link = &parent->rb_left;
        else if (k > pk) {
            link = &parent->rb_right;
            *leftmost = 0;
        } else
            return 1;
        ARCHEO_BEAT();
        if (__builtin_expect(++steps > poolsize, 0))
            return 2;
    }
    rb_link_node(NODE(k), parent, link);
    return 0;
}

static void op_insert(unsigned int k)
{
    int leftmost, r = link_by_key(k, &leftmost);

    if (r == 1) {
        LINE("dup");
        return;
    }
    if (r == 2) {
        LINE("cycle");
        return;
    }
    rb_insert_color(NODE(k), &root);
    present[k] = 1;
    cache_refresh();
    AUG_TOUCH();
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
    cache_refresh();
    AUG_TOUCH();
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
    if (other_in[k]) {
        LINE("busy");
        return;
    }
    victim = node_of(k, cur[k]);
    fresh = node_of(k, cur[k] ^ 1u);
    rb_replace_node(victim, fresh, &root);
    cur[k] ^= 1u;
    cache_refresh();
    AUG_TOUCH();
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
    int bad_parent, bad_order = 0, bad_red = 0, bad_height = 0, bad_aug = 0;
    unsigned int prev = 0;
    archeo_node_t *in_first = (archeo_node_t *)0;

    if (!top) {
#ifdef ARCHEO_HAS_CACHED
        if (croot.rb_leftmost) {
            LINE("bad leftmost");
            return;
        }
#endif
        LINE("ok 0 0");
        return;
    }
    (void)bad_aug;
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
#ifdef ARCHEO_AUGMENTS
            if (!aug_dirty && AUG(n) != aug_compute(n))
                bad_aug = 1;
#endif
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
            if (!in_first)
                in_first = n;
            if (have_prev && !(prev < k) && !(prev == k && present[k] && other_in[k]))
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
#ifdef ARCHEO_HAS_CACHED
    else if (croot.rb_leftmost != in_first)
        LINE("bad leftmost");
#endif
    else if (bad_aug)
        LINE("bad augment");
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
        other_in[i] = 0;
        ARCHEO_BEAT();
    }
    cache_refresh();
    AUG_TOUCH();
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
    __builtin_memset(other_in, 0, keyspace);
    fresh_pool();
    cache_refresh();
    AUG_TOUCH();
    LINE("ok");
    archeo_rt_segment_begin();
}

#include "harness_groups.c"

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
    other_in = archeo_rt_calloc(keyspace, 1);
#ifdef ARCHEO_AUGMENTS
    aug_order = archeo_rt_calloc(poolsize + 1, sizeof(*aug_order));
#endif
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
                    code == 'r' || code == 'c' || code == 'z' || group_keyed(code);
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
            if (group_op(code, (unsigned int)k))
                break;
            archeo_rt_fail(ARCHEO_EXIT_BATCH, "unknown operation", line);
        }
    }
    archeo_rt_segment_end();
    LINE("END");
    archeo_rt_finish();
    return 0;
}
