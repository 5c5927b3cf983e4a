/* SPDX-License-Identifier: MIT */
/*
 * outfile: the --output file, replaced whole or not at all.
 *
 * A run that fails (no such pid, a full disk) must not destroy what a
 * previous run left in FILE. So records go to a temporary file in FILE's
 * directory (".FILE.XXXXXX"), which is renamed over FILE only once every
 * byte was written; on failure it is removed. Paths that are not regular
 * files (a FIFO, /dev/stdout, /dev/full, a terminal) are written directly:
 * renaming over them would replace the device node, not feed it.
 */
#ifndef LEAKD_OUTFILE_H
#define LEAKD_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE *f;		/* where records go */
	char *path;		/* the name given, NULL for stdout */
	char *final;		/* what the temporary file becomes (symlinks resolved) */
	char *tmp;		/* the temporary file, NULL when writing directly */
};

/*
 * Opens path for writing (NULL: stdout). Returns 0, or -errno with
 * *out untouched.
 */
int outfile_open(const char *path, struct outfile *out);

/*
 * Flushes, checks for an earlier write error, closes and renames the
 * temporary file into place. Returns 0 or the -errno of the first failure
 * (-EIO if stdio does not say); on failure the temporary file is removed
 * and a previous FILE is left as it was. Frees everything either way.
 */
int outfile_commit(struct outfile *o);

/* Closes and removes the temporary file without touching FILE. */
void outfile_abort(struct outfile *o);

#endif /* LEAKD_OUTFILE_H */
