/* SPDX-License-Identifier: Apache-2.0 */
/* The log sink of m2md. Process-wide by nature (like syslog itself): the
 * level is an atomic so workers read it without locks. */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

#include "src/server/log.h"

static atomic_int log_level = SRV_LOG_INFO;
static atomic_int log_syslog;

void
srv_log_open(int level, int use_syslog)
{
	atomic_store(&log_level, level);
	atomic_store(&log_syslog, use_syslog);
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
		fprintf(stderr, "m2md[%s]: %s\n", names[level], line);
}
