// SPDX-License-Identifier: MIT
/*
 * journal: leak transitions as structured journal entries, or stderr lines
 * when there is no journal (see include/leakd/output/journal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "leakd/output/journal.h"
#include "leakd/base/textesc.h"

bool journal_available(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	/* systemd passes "dev:ino" of the stream it connected stderr to; only
	 * if stderr is still that stream does the journal see our output. */
	if (!js || sscanf(js, "%lu:%lu", &dev, &ino) != 2 || fstat(2, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

int journal_leak_changed(const struct journal_leak *e)
{
	/* What people read (stderr, MESSAGE) is escaped: a process names
	 * itself, and a newline in its name must not forge a second line. The
	 * LEAKD_* fields keep the raw bytes: the journal stores them as data. */
	char comm[64], unit[1024], reason[2048], site[1200] = "", holder[2700] = "";
	int r;

	textesc(comm, sizeof(comm), e->comm);
	textesc(unit, sizeof(unit), e->unit && *e->unit ? e->unit : "-");
	textesc(reason, sizeof(reason), e->reason);
	if (e->site && *e->site) {
		memcpy(site, "; made at ", 10);
		textesc(site + 10, sizeof(site) - 10, e->site);
	}
	/* the holder before the site: a site line ends with its survivors */
	if (e->holder && *e->holder) {
		memcpy(holder, "; held by ", 10);
		textesc(holder + 10, sizeof(holder) - 10, e->holder);
	}
	if (!journal_available()) {
		if (e->leak)
			fprintf(stderr, "leakd: pid %d (%s, unit %s) is leaking: %s%s%s\n", e->pid, comm, unit,
				reason, holder, site);
		else
			fprintf(stderr, "leakd: pid %d (%s, unit %s) no longer leaks: %s\n", e->pid, comm, unit,
				reason);
		return 0;
	}
	r = sd_journal_send("MESSAGE=pid %d (%s, unit %s) %s: %s%s%s", e->pid, comm, unit,
			    e->leak ? "is leaking" : "no longer leaks", reason, holder, site,
			    "MESSAGE_ID=%s", e->leak ? LEAKD_MSGID_LEAK : LEAKD_MSGID_LEAK_CLEARED,
			    "PRIORITY=%d", e->leak ? LOG_WARNING : LOG_NOTICE,
			    "LEAKD_PID=%d", e->pid,
			    "LEAKD_COMM=%s", e->comm,
			    "LEAKD_EXE=%s", e->exe,
			    "LEAKD_UNIT=%s", e->unit ? e->unit : "",
			    "LEAKD_CONTAINER=%s", e->container ? e->container : "",
			    "LEAKD_PYTHON=%s", e->python ? e->python : "",
			    "LEAKD_LEAK=%d", e->leak ? 1 : 0,
			    "LEAKD_OBJECTS_PER_S=%.3g", e->objects_per_s,
			    "LEAKD_BYTES_PER_S=%.3g", e->bytes_per_s,
			    "LEAKD_CONFIDENCE=%.3f", e->confidence,
			    "LEAKD_TYPES=%s", e->types ? e->types : "",
			    "LEAKD_SITE=%s", e->site ? e->site : "",
			    "LEAKD_HOLDER=%s", e->holder ? e->holder : "",
			    NULL);
	return r < 0 ? r : 0;
}
