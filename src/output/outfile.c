/* SPDX-License-Identifier: MIT */
/*
 * outfile: --output written to a temporary file and renamed into place at
 * the end (see include/leakd/output/outfile.h for why).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/output/outfile.h"

/* The file a rename must replace: path itself, or what its symlinks lead
 * to, so that a link to FILE stays a link. NULL if the file does not exist. */
static char *outfile_target(const char *path, struct stat *st)
{
	if (stat(path, st) < 0)
		return NULL;
	return realpath(path, NULL);
}

static int outfile_open_tmp(const char *final, struct outfile *o)
{
	char *dir_copy = strdup(final), *base_copy = strdup(final), *tmp = NULL;
	mode_t mask;
	int fd = -1, err = 0;

	if (!dir_copy || !base_copy || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dir_copy),
						basename(base_copy)) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto cleanup;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	/* mkostemp makes it 0600; FILE gets the mode fopen would give it */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || !(o->f = fdopen(fd, "w"))) {
		err = -errno;
		unlink(tmp);
		close(fd);
		goto cleanup;
	}
	o->tmp = tmp;
	tmp = NULL;
cleanup:
	free(tmp);
	free(dir_copy);
	free(base_copy);
	return err;
}

int outfile_open(const char *path, struct outfile *out)
{
	struct outfile o = { 0 };
	struct stat st;
	int err;

	if (!path) {
		o.f = stdout;
		*out = o;
		return 0;
	}
	o.path = strdup(path);
	if (!o.path)
		return -ENOMEM;
	o.final = outfile_target(path, &st);
	if (o.final && !S_ISREG(st.st_mode)) {
		o.f = fopen(path, "we");
		err = o.f ? 0 : -errno;
	} else {
		if (!o.final)
			o.final = strdup(path);
		err = o.final ? outfile_open_tmp(o.final, &o) : -ENOMEM;
	}
	if (err) {
		free(o.path);
		free(o.final);
		return err;
	}
	*out = o;
	return 0;
}

static void outfile_clear(struct outfile *o)
{
	free(o->path);
	free(o->final);
	free(o->tmp);
	*o = (struct outfile){ 0 };
}

int outfile_commit(struct outfile *o)
{
	int err = 0;

	errno = 0;
	if (fflush(o->f) == EOF || ferror(o->f))
		err = errno ? -errno : -EIO;
	if (o->f != stdout) {
		errno = 0;
		if (fclose(o->f) == EOF && !err)
			err = errno ? -errno : -EIO;
	}
	if (o->tmp) {
		if (!err && rename(o->tmp, o->final) < 0)
			err = -errno;
		if (err)
			unlink(o->tmp);
	}
	outfile_clear(o);
	return err;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	outfile_clear(o);
}
