/* archeo shim: the few library helpers a tree file may use, trapping instead of printing. */
#ifndef ARCHEO_SHIM_XEN_LIB_H
#define ARCHEO_SHIM_XEN_LIB_H

#include <xen/types.h>

#define BUG() __builtin_trap()
#define BUG_ON(cond) do { if (unlikely(cond)) BUG(); } while (0)
#define ASSERT(cond) BUG_ON(!(cond))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
