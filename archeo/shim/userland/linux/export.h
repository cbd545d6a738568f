/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/export.h>: exporting a symbol means nothing here. */
#ifndef ARCHEO_USERLAND_LINUX_EXPORT_H
#define ARCHEO_USERLAND_LINUX_EXPORT_H
#ifndef EXPORT_SYMBOL
#define EXPORT_SYMBOL(sym) extern int archeo_exported_##sym
#endif
#ifndef EXPORT_SYMBOL_GPL
#define EXPORT_SYMBOL_GPL(sym) extern int archeo_exported_##sym
#endif
#endif
