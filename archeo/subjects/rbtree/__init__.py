"""The kernel rbtree API past its core: one module per API group, each a Python model of the
group's documented semantics (not translated from any copy), built on the reference tree (tree.py).

- `cached`: rb_root_cached (leftmost kept beside the root);
- `postorder`: rb_first_postorder / rb_next_postorder;
- `augment`: augmented trees, the 2012+ callbacks API and the 2010 rb_augment_* API;
- `search`: rb_add, rb_add_cached, rb_find, rb_find_first, rb_next_match, rb_find_add;
- `rcu`: rb_replace_node_rcu.

Nothing here imports archeo.ops' generator or the C side; these are the models the protocol
interpreter and the property tests use.
"""
