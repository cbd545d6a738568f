/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/rcupdate.h>: single-threaded, a store is a store. */
#ifndef ARCHEO_USERLAND_LINUX_RCUPDATE_H
#define ARCHEO_USERLAND_LINUX_RCUPDATE_H
#include "linux/compiler.h"
#ifndef rcu_assign_pointer
#define rcu_assign_pointer(p, v) ((p) = (v))
#endif
#ifndef rcu_dereference
#define rcu_dereference(p) (p)
#endif
#endif
