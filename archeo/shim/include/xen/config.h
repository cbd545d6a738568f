/* archeo shim: what every file gets implicitly (our own code, not Xen's). */
#ifndef ARCHEO_SHIM_XEN_CONFIG_H
#define ARCHEO_SHIM_XEN_CONFIG_H

#include <xen/compiler.h>

/* No modules here: exporting a symbol means nothing. */
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
