/* SPDX-License-Identifier: MIT */
/*
 * pystack: the Python stacks the BPF walker captures, from both ends.
 *
 * pystack_conf() turns a struct pylayout into the struct leakd_pyconf the
 * walker reads per process (abi.h); pystack_symbolize() turns a captured
 * struct leakd_stack_event into frames with qualname, file and line, through
 * a codeobj cache over the target's memory.
 */
#ifndef LEAKD_PYSTACK_H
#define LEAKD_PYSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/abi.h"
#include "leakd/python/codeobj.h"
#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

struct pystack_frame {
	uint64_t code;
	char qualname[CODEOBJ_QUALNAME_MAX];
	char filename[CODEOBJ_FILENAME_MAX];
	int line;			/* 0: the instruction has no line */
};

/*
 * Fills *out for a process of layout l whose _PyRuntime is at runtime.
 * Returns 0; -ENOTSUP when l has no stack offsets (3.7, free-threaded,
 * unknown); -EINVAL for NULL arguments, a zero runtime or an offset that
 * does not fit the ABI's field. *out untouched on failure.
 */
int pystack_conf(const struct pylayout *l, uint64_t runtime, struct leakd_pyconf *out);

/* pystack_conf() with trace mode's byte-sample interval (0: no byte
 * samples): the one configuration every user of a process's pyconf map
 * installs, so that a site window and the byte samples on the same process
 * never overwrite each other's settings. Same returns. */
int pystack_conf_sampling(const struct pylayout *l, uint64_t runtime, uint64_t sample_bytes,
			  struct leakd_pyconf *out);

/*
 * Resolves e's frames, innermost first, into out[0..cap). A frame whose code
 * pointer holds another type of object (3.13+ frames running no code) is
 * left out; a frame that cannot be read ends the stack there, and *cut (if
 * not NULL) says so: the rest would be a guess. *cut is also set when the
 * walker itself cut the stack. Returns the number of frames written, or
 * -EINVAL for bad arguments, or the reader's -ESRCH/-EPERM (the target is
 * gone or not ours to read).
 */
int pystack_symbolize(struct codeobj_cache *c, const struct memreader *m,
		      const struct leakd_stack_event *e, struct pystack_frame *out, size_t cap, bool *cut);

#endif /* LEAKD_PYSTACK_H */
