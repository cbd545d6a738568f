/* SPDX-License-Identifier: MIT */
/*
 * archeo's stand-in for autoconf's config.h, which a project generates at build time and
 * never commits: empty, so code that includes it compiles with every feature test unset.
 */
