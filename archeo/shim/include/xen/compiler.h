/* archeo shim: compiler helpers a kernel-style file expects (our own code, not Xen's). */
#ifndef ARCHEO_SHIM_XEN_COMPILER_H
#define ARCHEO_SHIM_XEN_COMPILER_H

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define noinline        __attribute__((__noinline__))
#define __maybe_unused  __attribute__((__unused__))
#define __used          __attribute__((__used__))
#define __packed        __attribute__((__packed__))
#define __aligned(n)    __attribute__((__aligned__(n)))

#define barrier() __asm__ __volatile__("" : : : "memory")
#define ACCESS_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define READ_ONCE(x) ACCESS_ONCE(x)
#define WRITE_ONCE(x, val) ((void)(ACCESS_ONCE(x) = (val)))

#endif
