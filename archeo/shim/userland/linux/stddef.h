/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/stddef.h> in userland copies: NULL and offsetof. */
#ifndef ARCHEO_USERLAND_LINUX_STDDEF_H
#define ARCHEO_USERLAND_LINUX_STDDEF_H
#include <stddef.h>
#endif
