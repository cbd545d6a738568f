/*
 * archeo harness: the later rbtree API groups' operations (docs/protocol.md, "API groups").
 *
 * Included by harness.c (one translation unit: the ops share its pool, tree and output).
 * Each op calls the revision's own function when archeo_config.h says it has it
 * (ARCHEO_HAS_<op>); otherwise it does the op's effect on the tree through the core API, or
 * through our own walk for rb_add/rb_find_add, and answers `NA`, so that a revision without
 * a group stays comparable on every later op of the batch.
 *
 * Our own code (MIT), written from the documented semantics, not taken from any kernel.
 */

/* A result line from a string that need not be a literal (LINE pastes "\n" to a literal). */
static void line_str(const char *s)
{
    put(s, __builtin_strlen(s));
    end_line();
}

#define NA_OR(have, text) line_str((have) ? (text) : "NA")
#ifdef ARCHEO_HAS_CACHED_INSERT
#define HAVE_I 1
#else
#define HAVE_I 0
#endif
#ifdef ARCHEO_HAS_CACHED_ERASE
#define HAVE_E 1
#else
#define HAVE_E 0
#endif
#ifdef ARCHEO_HAS_CACHED_REPLACE
#define HAVE_R 1
#else
#define HAVE_R 0
#endif

static int group_keyed(char code)
{
    return code == 'I' || code == 'E' || code == 'R' || code == 'A' || code == 'B' || code == 'a' ||
           code == 'b' || code == '+' || code == '&' || code == '?' || code == '[' || code == ']' ||
           code == 'u';
}

/* `K.S`: a node by key and slot. */
static void put_name(archeo_node_t *n)
{
    unsigned int k = KEY(n);
    put_uint(k);
    PUTS(".");
    put_uint(n == node_of(k, 1) ? 1 : 0);
}

static void name_line(archeo_node_t *n)
{
    if (!n) {
        LINE("nil");
        return;
    }
    put_name(n);
    end_line();
}

/* `ok <cached leftmost>` after a cached op (the revision's pointer, read as it left it). */
static void ok_leftmost(int have)
{
#ifdef ARCHEO_HAS_CACHED
    if (have) {
        PUTS("ok ");
        if (croot.rb_leftmost)
            put_uint(KEY(croot.rb_leftmost));
        else
            PUTS("nil");
        end_line();
        return;
    }
#endif
    (void)have;
    LINE("NA");
}

/* ---------------------------------------------------------------- cached */
static void op_cached_insert(unsigned int k)
{
    int leftmost, r = link_by_key(k, &leftmost);
    if (r) {
        NA_OR(HAVE_I, r == 1 ? "dup" : "cycle");
        return;
    }
#ifdef ARCHEO_HAS_CACHED_INSERT
    rb_insert_color_cached(NODE(k), &croot, leftmost);
#else
    rb_insert_color(NODE(k), &root);
    cache_refresh();
#endif
    present[k] = 1;
    AUG_TOUCH();
    ok_leftmost(HAVE_I);
}

static void op_cached_erase(unsigned int k)
{
    if (!present[k]) {
        NA_OR(HAVE_E, "absent");
        return;
    }
#ifdef ARCHEO_HAS_CACHED_ERASE
    rb_erase_cached(NODE(k), &croot);
#else
    rb_erase(NODE(k), &root);
    cache_refresh();
#endif
    present[k] = 0;
    AUG_TOUCH();
    ok_leftmost(HAVE_E);
}

/* rb_replace_node and its variants: 1 when done (the caller then flips the slot). */
static int replace_guard(unsigned int k, int have)
{
    if (!present[k]) {
        NA_OR(have, "absent");
        return 0;
    }
    if (other_in[k]) {
        NA_OR(have, "busy");
        return 0;
    }
    return 1;
}

static void op_cached_replace(unsigned int k)
{
    archeo_node_t *victim, *fresh;
    if (!replace_guard(k, HAVE_R))
        return;
    victim = node_of(k, cur[k]);
    fresh = node_of(k, cur[k] ^ 1u);
#if defined(ARCHEO_HAS_CACHED_REPLACE)
    rb_replace_node_cached(victim, fresh, &croot);
#elif defined(ARCHEO_HAS_REPLACE_NODE)
    rb_replace_node(victim, fresh, &root);
    cache_refresh();
#else
    LINE("NA");
    return;
#endif
    cur[k] ^= 1u;
    AUG_TOUCH();
    ok_leftmost(HAVE_R);
}

static void op_replace_rcu(unsigned int k)
{
    archeo_node_t *victim, *fresh;
#ifdef ARCHEO_HAS_REPLACE_RCU
    if (!replace_guard(k, 1))
        return;
#else
    if (!replace_guard(k, 0))
        return;
#endif
    victim = node_of(k, cur[k]);
    fresh = node_of(k, cur[k] ^ 1u);
#if defined(ARCHEO_HAS_REPLACE_RCU)
    rb_replace_node_rcu(victim, fresh, &root);
#elif defined(ARCHEO_HAS_REPLACE_NODE)
    rb_replace_node(victim, fresh, &root);
#else
    LINE("NA");
    return;
#endif
    cur[k] ^= 1u;
    cache_refresh();
    AUG_TOUCH();
#ifdef ARCHEO_HAS_REPLACE_RCU
    LINE("ok");
#else
    LINE("NA");
#endif
}

/* ---------------------------------------------------------------- postorder */
static void op_postorder(void)
{
#ifdef ARCHEO_HAS_POSTORDER
    archeo_node_t *n = rb_first_postorder(&root);
    unsigned long count = 0;
    if (!n) {
        LINE("nil");
        return;
    }
    while (n) {
        ARCHEO_BEAT();
        if (count)
            PUTS(" ");
        if (++count > poolsize) {
            PUTS("!cycle");
            break;
        }
        put_uint(KEY(n));
        n = rb_next_postorder(n);
    }
    end_line();
#else
    LINE("NA");
#endif
}

/* ---------------------------------------------------------------- augmented */
static void op_aug_insert(unsigned int k, int old_api)
{
    int leftmost, r, have = 0;
    archeo_node_t *node;
#ifdef ARCHEO_HAS_AUG_INSERT
    have |= !old_api;
#endif
#ifdef ARCHEO_HAS_AUG2010_INSERT
    have |= old_api;
#endif
    if (have)
        AUG_READY();
    r = link_by_key(k, &leftmost);
    if (r) {
        NA_OR(have, r == 1 ? "dup" : "cycle");
        return;
    }
    node = NODE(k);
    present[k] = 1;
#ifdef ARCHEO_AUGMENTS
    if (have) {
        archeo_node_t *p = ARCHEO_PARENT(node);
        unsigned long steps = 0;
        AUG(node) = 1;
        if (!old_api)   /* the 2012 API: the caller updates the path it walked down */
            for (; p && ++steps <= poolsize; p = ARCHEO_PARENT(p))
                AUG(p) += 1;
    }
#endif
#ifdef ARCHEO_HAS_AUG_INSERT
    if (!old_api) {
        rb_insert_augmented(node, &root, &aug_callbacks);
        cache_refresh();
        LINE("ok");
        return;
    }
#endif
    rb_insert_color(node, &root);
#ifdef ARCHEO_HAS_AUG2010_INSERT
    if (old_api) {
        rb_augment_insert(node, aug_fix2010, (void *)0);
        cache_refresh();
        LINE("ok");
        return;
    }
#endif
    cache_refresh();
    AUG_TOUCH();
    LINE("NA");
}

static void op_aug_erase(unsigned int k, int old_api)
{
    int have = 0;
    archeo_node_t *node;
#ifdef ARCHEO_HAS_AUG_ERASE
    have |= !old_api;
#endif
#ifdef ARCHEO_HAS_AUG2010_ERASE
    have |= old_api;
#endif
    if (!present[k]) {
        NA_OR(have, "absent");
        return;
    }
    if (have)
        AUG_READY();
    node = NODE(k);
    present[k] = 0;
#ifdef ARCHEO_HAS_AUG_ERASE
    if (!old_api) {
        rb_erase_augmented(node, &root, &aug_callbacks);
        cache_refresh();
        LINE("ok");
        return;
    }
#endif
#ifdef ARCHEO_HAS_AUG2010_ERASE
    if (old_api) {
        archeo_node_t *deepest = rb_augment_erase_begin(node);
        rb_erase(node, &root);
        rb_augment_erase_end(deepest, aug_fix2010, (void *)0);
        cache_refresh();
        LINE("ok");
        return;
    }
#endif
    rb_erase(node, &root);
    cache_refresh();
    AUG_TOUCH();
    LINE("NA");
}

/* ---------------------------------------------------------------- rb_add / rb_find family */
static _Bool archeo_less(archeo_node_t *a, const archeo_node_t *b)
{
    return KEY(a) < KEY(b);
}

static int archeo_cmp_key(const void *key, const archeo_node_t *n)
{
    unsigned int k = *(const unsigned int *)key, nk = KEY(n);
    return k < nk ? -1 : k > nk;
}

static int archeo_cmp_node(archeo_node_t *a, const archeo_node_t *b)
{
    unsigned int ka = KEY(a), kb = KEY(b);
    return ka < kb ? -1 : ka > kb;
}

/* The node rb_add/rb_find_add put in: K's current node when it is not in the tree, else its
 * other node when that is not, else none (`full`). */
static archeo_node_t *free_node(unsigned int k)
{
    if (!present[k])
        return node_of(k, cur[k]);
    if (!other_in[k])
        return node_of(k, cur[k] ^ 1u);
    return (archeo_node_t *)0;
}

static void mark_in(unsigned int k, archeo_node_t *n)
{
    if (n == node_of(k, cur[k]))
        present[k] = 1;
    else
        other_in[k] = 1;
}

/* Our own walk for a revision without the helper: rb_add's (ties right) or rb_find_add's
 * (stop at an equal node, returned). 0 when linked and coloured. */
static archeo_node_t *own_add(archeo_node_t *node, int find)
{
    archeo_node_t **link = &root.rb_node, *parent = (archeo_node_t *)0;
    unsigned long steps = 0;
    while (*link) {
        int c;
        parent = *link;
        c = archeo_cmp_node(node, parent);
        if (find && c == 0)
            return parent;
        link = c < 0 ? &parent->rb_left : &parent->rb_right;
        ARCHEO_BEAT();
        if (++steps > poolsize)
            return parent;   /* a cycle: give up, link nothing */
    }
    rb_link_node(node, parent, link);
    rb_insert_color(node, &root);
    return (archeo_node_t *)0;
}

static void op_add(unsigned int k, int find)
{
    archeo_node_t *node = free_node(k), *existing = (archeo_node_t *)0;
    int have = 0;
#ifdef ARCHEO_HAS_ADD
    have |= !find;
#endif
#ifdef ARCHEO_HAS_FIND_ADD
    have |= find;
#endif
    if (!node) {
        NA_OR(have, "full");
        return;
    }
    if (!find) {
#ifdef ARCHEO_HAS_ADD
        rb_add(node, &root, archeo_less);
#else
        own_add(node, 0);
#endif
    } else {
#ifdef ARCHEO_HAS_FIND_ADD
        existing = rb_find_add(node, &root, archeo_cmp_node);
#else
        existing = own_add(node, 1);
#endif
    }
    if (existing) {
        if (!have) {
            LINE("NA");
            return;
        }
        PUTS("dup ");
        name_line(existing);
        return;
    }
    mark_in(k, node);
    cache_refresh();
    AUG_TOUCH();
    NA_OR(have, "ok");
}

static void op_find_group(char code, unsigned int k)
{
    switch (code) {
    case '?':
#ifdef ARCHEO_HAS_FIND
        name_line(rb_find(&k, &root, archeo_cmp_key));
        return;
#else
        break;
#endif
    case '[':
#ifdef ARCHEO_HAS_FIND_FIRST
        name_line(rb_find_first(&k, &root, archeo_cmp_key));
        return;
#else
        break;
#endif
    case ']':
#ifdef ARCHEO_HAS_NEXT_MATCH
    {
        archeo_node_t *n = rb_find_first(&k, &root, archeo_cmp_key);
        unsigned long count = 0;
        if (!n) {
            LINE("nil");
            return;
        }
        while (n) {
            ARCHEO_BEAT();
            if (count)
                PUTS(" ");
            if (++count > poolsize) {
                PUTS("!cycle");
                break;
            }
            put_name(n);
            n = rb_next_match(&k, n, archeo_cmp_key);
        }
        end_line();
        return;
    }
#else
        break;
#endif
    }
    (void)k;
    LINE("NA");
}

/* ---------------------------------------------------------------- dispatch */
static int group_op(char code, unsigned int k)
{
    switch (code) {
    case 'I': op_cached_insert(k); return 1;
    case 'E': op_cached_erase(k); return 1;
    case 'R': op_cached_replace(k); return 1;
    case 'L':
#ifdef ARCHEO_HAS_CACHED_FIRST
        key_line(rb_first_cached(&croot));
#else
        LINE("NA");
#endif
        return 1;
    case 'P': op_postorder(); return 1;
    case 'A': op_aug_insert(k, 0); return 1;
    case 'B': op_aug_erase(k, 0); return 1;
    case 'a': op_aug_insert(k, 1); return 1;
    case 'b': op_aug_erase(k, 1); return 1;
    case '+': op_add(k, 0); return 1;
    case '&': op_add(k, 1); return 1;
    case '?': case '[': case ']': op_find_group(code, k); return 1;
    case 'u': op_replace_rcu(k); return 1;
    }
    return 0;
}
