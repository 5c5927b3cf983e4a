/* SPDX-License-Identifier: MIT */
/*
 * journal: the daemon's structured events. When a process starts or stops
 * leaking, one journal entry with a fixed MESSAGE_ID and the fields a query
 * needs (pid, unit, types, rate); without a journal (not under systemd), one
 * line on stderr with the same content.
 */
#ifndef LEAKD_JOURNAL_H
#define LEAKD_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* journalctl MESSAGE_ID=... finds every leak event of every host. */
#define LEAKD_MSGID_LEAK	"1b5f79f2a86b490ea012d734a2f195e9"
#define LEAKD_MSGID_LEAK_CLEARED "53799c38eb884bfaa12cb4e8dbaf189b"

struct journal_leak {
	pid_t pid;
	const char *comm, *exe, *unit, *container, *python;
	bool leak;			/* true: started leaking; false: stopped */
	double objects_per_s, bytes_per_s, confidence;
	const char *types;		/* "dict, __main__.Item" or "" */
	const char *reason;
	const char *site;		/* where the leaking objects are made (sitewin), or NULL */
	const char *holder;		/* what holds the top leaking type (holdsched row 0), or NULL */
};

/* True when stderr is connected to the journal (systemd sets JOURNAL_STREAM). */
bool journal_available(void);

/* Logs one transition. Returns 0 or -errno (the caller ignores it: losing a
 * log line must not stop the daemon). */
int journal_leak_changed(const struct journal_leak *e);

#endif
