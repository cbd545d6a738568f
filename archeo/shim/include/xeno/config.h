/* archeo shim: the 2004 prefix (xeno/) is the same as xen/. */
#include <xen/config.h>
