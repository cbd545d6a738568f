/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/compiler.h> in userland copies. */
#ifndef ARCHEO_USERLAND_LINUX_COMPILER_H
#define ARCHEO_USERLAND_LINUX_COMPILER_H
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#endif
#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#endif
#endif
