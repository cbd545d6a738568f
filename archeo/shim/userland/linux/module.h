/* SPDX-License-Identifier: MIT */
/* archeo's stand-in for the kernel's <linux/module.h> in userland copies. */
#include "linux/export.h"
