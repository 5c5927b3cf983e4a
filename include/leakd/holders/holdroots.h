/* SPDX-License-Identifier: MIT */
/*
 * holdroots: where the holder search starts (holders.h).
 *
 * - every module among the GC's tracked objects, named by its __name__;
 * - the local variables of every frame of every thread, named by thread,
 *   function, file:line and variable (3.11+ frames are not objects: their
 *   locals sit in the interpreter frame's localsplus, named by the code
 *   object's co_localsplusnames; before, PyFrameObject's f_localsplus and
 *   co_varnames/co_cellvars/co_freevars);
 * - once those are searched, the tracked objects no root reached: each one
 *   whose reference count exceeds the references found among them is held
 *   from C; the rest is garbage kept by cycles, labelled with its cycle's
 *   size and the collector's state.
 */
#ifndef LEAKD_HOLDROOTS_H
#define LEAKD_HOLDROOTS_H

#include <stdint.h>

#include "leakd/holders/holdsearch.h"

/* Each returns 0 or a hard -errno, and adds the roots it found to *count. */
int holdroots_modules(struct holdsearch *hs, uint64_t *count);
int holdroots_threads(struct holdsearch *hs, uint64_t *count);
int holdroots_unreached(struct holdsearch *hs, uint64_t *count);

#endif /* LEAKD_HOLDROOTS_H */
