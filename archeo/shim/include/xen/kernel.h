/* archeo shim: container_of and friends live in config.h; this name is here for later files. */
#include <xen/types.h>
