"""The kernel red-black tree as a subject: everything archeo knows that is rbtree-specific.

- `vocabulary`: the protocol's op codes (keyed, bare, probes, the later API groups');
- `generate`: seeded op sequences (mixes, profiles) aimed at present and absent keys;
- `tree`: the Python reference tree, the kernel API one to one; `harness`: its interpreter of
  the batch protocol; `interp`: the same with the later API groups' ops;
- one module per later API group, each a Python model of the group's documented semantics
  (not translated from any copy), built on `tree`: `cached` (rb_root_cached), `postorder`,
  `augment` (the 2012+ callbacks API and the 2010 rb_augment_* API), `search` (rb_add,
  rb_find, ...), `rcu` (rb_replace_node_rcu); `groups` says which names each op needs.

The models import neither the generator nor the C side.
"""
