/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/kernel.h> in userland copies: container_of. */
#ifndef ARCHEO_USERLAND_LINUX_KERNEL_H
#define ARCHEO_USERLAND_LINUX_KERNEL_H
#include <stddef.h>
#include "linux/compiler.h"
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#endif
