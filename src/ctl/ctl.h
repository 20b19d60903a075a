/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl: the admin tool. Each subcommand lives in its own file and is
 * listed once in the table of m2mctl.c. */
#ifndef M2M_CTL_H
#define M2M_CTL_H

struct ctl_cmd {
	const char *name;
	/* argv[0] is the subcommand name; returns the process exit status. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Subcommand entry points, one per file of src/ctl/. */
int ctl_bench_main(int argc, char **argv);
int ctl_bench_proto(int argc, char **argv);
int ctl_hsm_main(int argc, char **argv);
int ctl_bench_hsm(int argc, char **argv);
int ctl_db_main(int argc, char **argv);
int ctl_enroll_main(int argc, char **argv);
int ctl_list_main(int argc, char **argv);
int ctl_show_main(int argc, char **argv);
int ctl_status_main(int argc, char **argv);
int ctl_rotate_key_main(int argc, char **argv);
int ctl_instruct_main(int argc, char **argv);
int ctl_reports_main(int argc, char **argv);
int ctl_bench_db(int argc, char **argv);
int ctl_sessions_main(int argc, char **argv);
int ctl_session_main(int argc, char **argv);
/* ctl entry points end */

/* Prints "m2mctl: <msg>" on stderr; the common way to report an error. */
void ctl_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --pin given: refused without echoing it; returns the usage status 2. */
int ctl_pin_refused(void);

#endif
