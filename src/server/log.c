/* SPDX-License-Identifier: Apache-2.0 */
/* The log sink of m2md. Process-wide by nature (like syslog itself): the
 * level is an atomic so workers read it without locks. */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>

#include "src/server/log.h"

static atomic_int log_level = SRV_LOG_INFO;
static atomic_int log_syslog;
static atomic_int log_journal;
/* sd-daemon(3)'s priorities, by enum srv_log_level. */
static const char *const sd_prefix[] = { "<3>", "<4>", "<6>", "<7>" };

/* systemd names the journal stream it connected in JOURNAL_STREAM
 * ("DEV:INODE"); stderr is that stream unless something redirected it
 * (sd-daemon(3), systemd.exec(5)). */
static int
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return v != NULL && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

const char *
srv_log_prefix(int level)
{
	return !atomic_load(&log_syslog) && stderr_is_journal() ? sd_prefix[level] : "";
}

void
srv_log_open(int level, int use_syslog)
{
	atomic_store(&log_level, level);
	atomic_store(&log_syslog, use_syslog);
	atomic_store(&log_journal, !use_syslog && stderr_is_journal());
	if (use_syslog)
		openlog("m2md", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
srv_log_reopen(int level, int use_syslog)
{
	if (atomic_load(&log_syslog))
		closelog();
	srv_log_open(level, use_syslog);
}

int
srv_log_enabled(int level)
{
	return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* One record, one line: libpq's messages end in a newline and continue on
 * the next one (a hint after a tab), and nothing that reaches a log line,
 * a peer's text included, may start a record of its own. */
static void
one_line(char *line)
{
	char *w = line;
	int ctl = 0;

	for (const char *r = line; *r != '\0'; r++) {
		if ((unsigned char)*r < 0x20 || *r == 0x7f) {
			ctl = 1;
			continue;
		}
		if (ctl && w != line && w[-1] != ' ')
			*w++ = ' ';
		ctl = 0;
		*w++ = *r;
	}
	*w = '\0';
}

void
srv_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	va_list ap;

	if (!srv_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	one_line(line);
	if (atomic_load(&log_syslog))
		syslog(prio[level], "%s", line);
	else
		fprintf(stderr, "%sm2md[%s]: %s\n", atomic_load(&log_journal) ?
		    sd_prefix[level] : "", names[level], line);
}
