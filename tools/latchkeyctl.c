/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl: administer latchkey through latchkeyd. Every operation but
 * prune is a request to the daemon; this program never touches keys or the
 * state directory itself, so it needs no privileges beyond what the daemon
 * grants its peer uid (prune, which needs no key, works on the filesystem
 * directly and is for root only).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"

static const struct ctl_command commands[] = {
    {"enroll", cmd_enroll, "set USER's passphrase and tune its key derivation (root)"},
    {"encrypt", cmd_encrypt, "encrypt the empty directory DIR for USER (root)"},
    {"status", cmd_status, "show encrypted directories and their state"},
    {"lock", cmd_lock, "remove USER's keys from the kernel (--all: everybody's)"},
    {"unlock", cmd_unlock, "unlock USER's directories with their passphrase"},
    {"recovery", cmd_recovery, "create a recovery code for USER, or reset with one (root)"},
    {"escrow", cmd_escrow, "offline-key escrow: keygen, enable, add, request, answer, recover"},
    {"rotate", cmd_rotate, "give USER a new protector key; reseal every wrapped key (root)"},
    {"policy", cmd_policy, "give each user a directory under a shared root (assign, list, remove)"},
    {"prune", cmd_prune, "delete old files of locked users from a shared cache DIR (root)"},
    {"migrate", cmd_migrate, "encrypt DIR, which holds data, for USER: copy, verify, swap (root)"},
    {"decrypt", cmd_decrypt, "turn the encrypted DIR back into a plain one (root)"},
    {"forget", cmd_forget, "lock DIR and drop it from its user's index, e.g. once deleted (root)"},
    {"unenroll", cmd_unenroll, "lock USER, then remove all of USER's latchkey state (root)"},
    {"tpm", cmd_tpm, "seal USER's protector to this machine's TPM2, or remove that slot (root)"},
    {"doctor", cmd_doctor, "check the kernel, filesystems, PAM stacks, daemon and state; print fixes"},
};

/* Bytes the command wrote on stdout: a --json run that failed before
 * printing its result prints an error object instead. */
static size_t stdout_bytes;

static ssize_t counting_write(void *cookie, const char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(STDOUT_FILENO, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	stdout_bytes += done;
	return (ssize_t)done;
}

static void count_stdout(void)
{
	FILE *f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = counting_write});

	if (!f)
		return; /* then no error object: stdout stays as it was */
	if (isatty(STDOUT_FILENO))
		setvbuf(f, NULL, _IOLBF, 0);
	stdout = f;
}

static int finish(const struct ctl *ctl, int rc)
{
	/* Commands return 0 or a CTL_EXIT_* code; a -errno that slipped
	 * through would reach the shell as 255 or worse, which
	 * latchkeyctl(8) does not document: say "failed" instead. */
	if (rc < 0 || rc > 255)
		rc = CTL_EXIT_FAILED;
	fflush(stdout);
	if (ctl->json && rc != CTL_EXIT_OK && stdout_bytes == 0)
		ctl_print_json_error(rc);
	fflush(stdout);
	return rc;
}

static void help(void)
{
	printf("Usage: latchkeyctl [--socket PATH] [--json] COMMAND [ARGS...]\n"
	       "\n"
	       "Manage fscrypt-encrypted directories unlocked at login by latchkeyd.\n"
	       "\n"
	       "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("\n"
	       "Options:\n"
	       "  --socket PATH  daemon socket (default %s)\n"
	       "  --json         machine-readable output on stdout\n"
	       "  -h, --help     show this help\n"
	       "  --version      show the version\n"
	       "\n"
	       "Run 'latchkeyctl COMMAND --help' for a command's options.\n"
	       "\n"
	       "Exit status:\n"
	       "  0 success, 1 operation failed, 2 usage error, 3 daemon unreachable,\n"
	       "  4 permission denied, 5 wrong passphrase / authentication failed, 6 not enrolled\n",
	       LK_SOCKET_PATH);
}

int main(int argc, char **argv)
{
	enum { OPT_SOCKET = 0x100, OPT_JSON, OPT_VERSION };
	static const struct option options[] = {
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {},
	};
	struct ctl ctl = {.socket_path = LK_SOCKET_PATH};
	int c;

	/* Passphrases and W pass through this process: no core dumps and no
	 * ptrace by other processes of the same user. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* A reader of our output going away must not kill us half-way. */
	signal(SIGPIPE, SIG_IGN);
	count_stdout();

	/* '+': stop at the command name; the command parses the rest. */
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (optarg[0] != '/')
				return ctl_usage_error(NULL, "--socket needs an absolute path");
			ctl.socket_path = optarg;
			break;
		case OPT_JSON:
			ctl.json = true;
			break;
		case 'h':
			help();
			return CTL_EXIT_OK;
		case OPT_VERSION:
			printf("latchkeyctl %s\n", LK_VERSION);
			return CTL_EXIT_OK;
		default:
			/* getopt already said what was wrong. */
			return finish(&ctl, ctl_usage_error(NULL, "invalid option"));
		}
	}

	if (optind >= argc)
		return finish(&ctl, ctl_usage_error(NULL, "missing command"));

	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub_argv = argv + optind;
			int sub_argc = argc - optind;

			/* 0 makes glibc's getopt start over for the command. */
			optind = 0;
			return finish(&ctl, commands[i].run(&ctl, sub_argc, sub_argv));
		}

	return finish(&ctl, ctl_usage_error(NULL, "unknown command '%s'", argv[optind]));
}
