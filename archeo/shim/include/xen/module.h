/* archeo shim: module support is nothing in a standalone build. */
#ifndef ARCHEO_SHIM_XEN_MODULE_H
#define ARCHEO_SHIM_XEN_MODULE_H

#include <xen/config.h>

#endif
