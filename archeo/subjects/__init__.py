"""Subjects: what kind of code archeo tests (docs/DESIGN: the subject extension point).

Today there is one, the kernel red-black tree. Its core (the seven functions and two macros
every revision has had) is in subjects/rbtree/ (vocabulary, generate, tree, harness); the API groups
added later to the kernel rbtree (cached leftmost, postorder, augmented, rb_add/rb_find,
rb_replace_node_rcu) live in `archeo.subjects.rbtree`, a first step towards issue 13's layout.
"""
