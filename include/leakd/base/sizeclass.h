/* SPDX-License-Identifier: MIT */
/*
 * sizeclass: the size classes of every live-allocation histogram (the census's
 * and the probes' alike): pymalloc's 16..512 step 16 (32 classes), then powers
 * of two 1 KiB .. 1 GiB (21 classes); the last one is open-ended. Pure.
 */
#ifndef LEAKD_SIZECLASS_H
#define LEAKD_SIZECLASS_H

#include <stdint.h>

#define SIZECLASS_N	53

/* The class (0..SIZECLASS_N-1) of an allocation of size bytes. */
unsigned sizeclass_of(uint64_t size);
/* A class's upper bound in bytes (the last class also holds everything larger). */
uint64_t sizeclass_bound(unsigned cls);

#endif /* LEAKD_SIZECLASS_H */
