/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl escrow: an extra protector slot per user, sealed to an X25519
 * public key whose private half lives on an offline machine (lib/escrow.h).
 *
 *   offline:  keygen, answer           (no daemon, any user)
 *   machine:  enable, add, request, recover   (root)
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "escrow_line.h"
#include "fileio.h"
#include "machine_id.h"
#include "json_out.h"
#include "output.h"
#include "slots.h"

static void escrow_help(void)
{
	printf("Usage: latchkeyctl escrow keygen --out PRIVATE.pem\n"
	       "       latchkeyctl escrow enable PUBLIC.pem [--config-dir DIR]\n"
	       "       latchkeyctl escrow add USER [--passphrase-stdin] [--config-dir DIR]\n"
	       "       latchkeyctl escrow request USER\n"
	       "       latchkeyctl escrow answer --private-key PRIVATE.pem [--yes]\n"
	       "       latchkeyctl escrow recover USER [--config-dir DIR]\n"
	       "\n"
	       "Escrow lets an organisation reset a user's passphrase without ever knowing it.\n"
	       "Each user gets a slot sealed to an X25519 public key; the private key stays\n"
	       "on an offline machine and only turns one request into one answer.\n"
	       "\n"
	       "On the offline machine (no daemon, any user):\n"
	       "  keygen   write a new private key to PRIVATE.pem (mode 0600, never\n"
	       "           overwritten) and print the public key (PEM) on stdout\n"
	       "  answer   read a request line on stdin, show the user, uid and machine it\n"
	       "           names, and after you confirm them print the answer line\n"
	       "On each machine (root):\n"
	       "  enable   install PUBLIC.pem as DIR/escrow.pub; enrolments add a slot\n"
	       "  add      add (or replace) USER's escrow slot; needs USER's passphrase\n"
	       "           unless USER has a live session (terminal, or --passphrase-stdin)\n"
	       "  request  print the request line for USER's escrow slot\n"
	       "  recover  read the answer line (stdin line 1) and a new passphrase (asked\n"
	       "           twice on a terminal, else stdin line 2); set it and rotate\n"
	       "           USER's protector key (see 'latchkeyctl rotate'), so that the\n"
	       "           answer works once and opens nothing on disk afterwards\n"
	       "\n"
	       "Lines:\n"
	       "  %s 2 uid=UID user=NAME machine=<32 hex> E=<64 hex digits>\n"
	       "  %s 2 uid=UID user=NAME machine=<32 hex> E=<64 hex> W=<64 hex>\n"
	       "  (version 1 lines, without user= and machine=, serve escrow slots made\n"
	       "  before version 2; such a slot is upgraded at the user's next rewrap)\n"
	       "\n"
	       "Options:\n"
	       "  --out FILE          keygen: where to write the private key\n"
	       "  --private-key FILE  answer: the private key\n"
	       "  --config-dir DIR    where escrow.pub lives (default: latchkeyd's configuration\n"
	       "                      directory, else %s); recover ignores it: latchkeyd\n"
	       "                      reseals with its own escrow.pub\n"
	       "  --passphrase-stdin  add: read USER's passphrase from stdin\n"
	       "  --yes               answer: do not ask to confirm user and machine (scripts)\n"
	       "  --json              enable, add, recover: print the result as JSON\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "Exit status 5: wrong passphrase (add), or an answer that does not open\n"
	       "USER's current escrow slot (recover: also one made for another user or\n"
	       "machine). Exit status 1 from answer when the holder does not confirm.\n",
	       ESCROW_REQUEST_TAG, ESCROW_ANSWER_TAG, LK_DEFAULT_CONFIG_DIR);
}

struct escrow_args {
	const char *file;       /* --out, --private-key, or enable's PUBLIC.pem */
	const char *config_dir; /* --config-dir */
	const char *user;
	uid_t uid;
	bool from_stdin;
	bool yes;
	bool done; /* --help was printed: nothing more to do */
};

enum { ARG_NONE, ARG_USER, ARG_FILE };

/* Whether word is one of the space-separated words of list. */
static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");

		if (k == n && memcmp(p, word, n) == 0)
			return true;
		p += k;
		p += strspn(p, " ");
	}
	return false;
}

/*
 * The options every subcommand shares, and its one positional argument
 * (a USER, resolved and checked for root; a FILE; or none). allowed lists
 * the long options this subcommand takes. 0 to go on, or the exit status to
 * return right away: a failure's, or CTL_EXIT_OK after --help (a->done).
 */
static int parse(struct ctl *ctl, const char *op, int argc, char **argv, const char *allowed, int positional,
                 struct escrow_args *a)
{
	enum { OPT_OUT = 0x100, OPT_KEY, OPT_CONFIG, OPT_STDIN, OPT_JSON, OPT_YES };
	static const struct option options[] = {
	    {"out", required_argument, NULL, OPT_OUT},
	    {"private-key", required_argument, NULL, OPT_KEY},
	    {"config-dir", required_argument, NULL, OPT_CONFIG},
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"yes", no_argument, NULL, OPT_YES},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c, idx = 0, r;

	while ((c = getopt_long(argc, argv, "h", options, &idx)) != -1) {
		if (c == 'h') {
			escrow_help();
			a->done = true;
			return CTL_EXIT_OK;
		}
		if (c == '?')
			return ctl_usage_error("escrow", "invalid option");
		/* One option table for all subcommands; refuse, never ignore,
		 * an option that this one does not take. */
		if (!word_in(allowed, options[idx].name))
			return ctl_usage_error("escrow", "%s does not take --%s", op, options[idx].name);
		switch (c) {
		case OPT_OUT:
		case OPT_KEY:
			a->file = optarg;
			break;
		case OPT_CONFIG:
			if (optarg[0] != '/')
				return ctl_usage_error("escrow", "--config-dir needs an absolute path");
			a->config_dir = optarg;
			break;
		case OPT_STDIN:
			a->from_stdin = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_YES:
			a->yes = true;
			break;
		}
	}
	if (argc - optind != (positional == ARG_NONE ? 0 : 1))
		return ctl_usage_error("escrow",
		                       positional == ARG_USER   ? "%s: expected exactly one USER"
		                       : positional == ARG_FILE ? "%s: expected exactly one FILE"
		                                                : "%s: takes no arguments",
		                       op);
	if (positional == ARG_FILE)
		a->file = argv[optind];
	if (positional == ARG_USER) {
		a->user = argv[optind];
		r = ctl_require_root_user(op, a->user, &a->uid);
		if (r != 0)
			return r;
	}
	if (ctl->json && !word_in(allowed, "json"))
		return ctl_usage_error("escrow", "%s has no JSON output: its output is already one line", op);
	if (word_in(allowed, "config-dir"))
		ctl_daemon_config_dirs(ctl, op, &a->config_dir, NULL);
	return 0;
}

/* A small file the admin names (a key): regular, at most cap - 1 bytes.
 * *ret_mode gets its permission bits. buf may be secret memory. */
static int read_key_file(const char *op, const char *path, char *buf, size_t cap, size_t *ret_len,
                         mode_t *ret_mode)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size >= cap)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: not a key file (a regular file under %zu bytes)",
		                path, cap);
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_len = len;
	*ret_mode = st.st_mode & 07777;
	return 0;
}

static int escrow_keygen(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow keygen";
	struct lk_secret priv _cleanup_secret_ = {};
	struct lk_secret pem _cleanup_secret_ = {};
	struct escrow_args a = {};
	_cleanup_close_ int fd = -1;
	uint8_t pub[LK_ESCROW_KEY_SIZE];
	char pub_pem[LK_ESCROW_PEM_MAX], fp[LK_ESCROW_FINGERPRINT_SIZE];
	size_t len, pub_len;
	int r;

	r = parse(ctl, op, argc, argv, "out", ARG_NONE, &a);
	if (r != 0 || a.done)
		return r;
	if (!a.file)
		return ctl_usage_error("escrow", "%s: --out PRIVATE.pem is required", op);

	if (lk_secret_new(&priv, LK_ESCROW_KEY_SIZE) < 0 || lk_secret_new(&pem, LK_ESCROW_PEM_MAX) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory");
	r = lk_escrow_keygen(priv.ptr, pub);
	if (r == 0)
		r = lk_escrow_private_to_pem(priv.ptr, pem.ptr, pem.len, &len);
	if (r == 0)
		r = lk_escrow_public_to_pem(pub, pub_pem, sizeof(pub_pem), &pub_len);
	if (r == 0)
		r = lk_escrow_fingerprint(pub, fp);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot make a key: %s", strerror(-r));

	/* O_EXCL: an existing escrow key may be the only way into every
	 * machine's escrow slots; never replace it. */
	fd = open(a.file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && errno == EEXIST)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s exists; refusing to overwrite a key", a.file);
	if (fd < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", a.file, strerror(errno));
	r = fchmod(fd, 0600) < 0 ? -errno : ctl_write_secret(fd, pem.ptr, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(a.file);
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot write %s: %s", a.file, strerror(-r));
	}

	fprintf(stderr,
	        "Wrote the escrow private key to %s (mode 0600). Keep it on this offline machine.\n"
	        "Install the public key below on each machine with 'latchkeyctl escrow enable FILE'.\n"
	        "Key fingerprint (SHA-256): %s\n",
	        a.file, fp);
	fputs(pub_pem, stdout);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

static int escrow_enable(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow enable";
	struct lk_secret scratch _cleanup_secret_ = {};
	struct escrow_args a = {};
	_cleanup_close_ int dfd = -1;
	uint8_t R[LK_ESCROW_KEY_SIZE], old[LK_ESCROW_KEY_SIZE];
	char in[LK_ESCROW_PEM_MAX], pem[LK_ESCROW_PEM_MAX], fp[LK_ESCROW_FINGERPRINT_SIZE];
	bool had_old = false;
	size_t len;
	mode_t mode;
	int r;

	r = parse(ctl, op, argc, argv, "config-dir json", ARG_FILE, &a);
	if (r != 0 || a.done)
		return r;
	r = ctl_require_root(op);
	if (r != 0)
		return r;

	r = read_key_file(op, a.file, in, sizeof(in), &len, &mode);
	if (r != 0)
		return r;
	if (lk_escrow_public_from_pem(in, len, R) < 0) {
		if (lk_secret_new(&scratch, LK_ESCROW_KEY_SIZE) == 0 &&
		    lk_escrow_private_from_pem(in, len, scratch.ptr) == 0) {
			lk_wipe(in, sizeof(in));
			return ctl_fail(
			    CTL_EXIT_FAILED, op,
			    "%s is a PRIVATE key: it must never be on this machine. Delete it here and "
			    "give the public key ('escrow keygen' printed it)",
			    a.file);
		}
		return ctl_fail(CTL_EXIT_FAILED, op, "%s is not an X25519 public key in PEM form", a.file);
	}

	r = ctl_escrow_load(op, a.config_dir, old, &had_old);
	if (r != 0)
		return r;

	/* Write our own canonical encoding, not the admin's file as given. */
	r = lk_escrow_public_to_pem(R, pem, sizeof(pem), &len);
	if (r == 0)
		r = lk_escrow_fingerprint(R, fp);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot encode the key: %s", strerror(-r));
	if (mkdir(a.config_dir, 0755) < 0 && errno != EEXIST)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot create %s: %s", a.config_dir, strerror(errno));
	dfd = open(a.config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", a.config_dir, strerror(errno));
	r = lk_write_file_atomic_at(dfd, CTL_ESCROW_PUB_NAME, pem, len, 0644);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot write %s/%s: %s", a.config_dir,
		                CTL_ESCROW_PUB_NAME, strerror(-r));

	if (ctl->json) {
		char path[LK_PATH_MAX + sizeof(CTL_ESCROW_PUB_NAME) + 1];
		struct json_object *doc = json_object_new_object();

		snprintf(path, sizeof(path), "%s/%s", a.config_dir, CTL_ESCROW_PUB_NAME);
		json_out_add_string(doc, "path", path);
		json_out_add_string(doc, "fingerprint", fp);
		json_out_add_bool(doc, "replaced", had_old && memcmp(old, R, sizeof(R)) != 0);
		(void)json_out_print(doc);
		return CTL_EXIT_OK;
	}
	printf("Escrow enabled: %s/%s\nKey fingerprint (SHA-256): %s\n", a.config_dir, CTL_ESCROW_PUB_NAME,
	       fp);
	if (had_old && memcmp(old, R, sizeof(R)) != 0)
		printf("This replaced another escrow key. Slots sealed to it still need its private key;\n"
		       "reseal them to this one with 'latchkeyctl escrow add USER'.\n");
	printf("New enrolments get an escrow slot; for users enrolled before, run\n"
	       "'latchkeyctl escrow add USER'.\n");
	return CTL_EXIT_OK;
}

static int escrow_add(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow add";
	struct lk_secret w _cleanup_secret_ = {};
	struct escrow_args a = {};
	struct lk_kdf_params kdf;
	uint8_t R[LK_ESCROW_KEY_SIZE];
	char fp[LK_ESCROW_FINGERPRINT_SIZE];
	bool present;
	int r;

	r = parse(ctl, op, argc, argv, "config-dir passphrase-stdin json", ARG_USER, &a);
	if (r != 0 || a.done)
		return r;

	r = ctl_escrow_load(op, a.config_dir, R, &present);
	if (r != 0)
		return r;
	if (!present)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "escrow is not enabled here: no %s/%s (see 'latchkeyctl escrow enable')",
		                a.config_dir, CTL_ESCROW_PUB_NAME);
	r = ctl_escrow_seal(op, R, a.uid, &kdf, &w);
	if (r != 0)
		return r;
	r = ctl_add_slot(ctl, op, a.uid, a.user, a.from_stdin, LK_SLOT_ESCROW, w.ptr, &kdf);
	if (r != 0)
		return r;

	(void)lk_escrow_fingerprint(R, fp);
	if (ctl->json) {
		struct json_object *doc = json_out_user(a.user, a.uid);

		json_out_add_string(doc, "fingerprint", fp);
		(void)json_out_print(doc);
	} else {
		printf("Added an escrow slot for %s (escrow key %s).\n", a.user, fp);
	}
	return CTL_EXIT_OK;
}

/* E of uid's current escrow slot, and whether it is a bound (V2) one. */
static int current_escrow_E(const struct ctl *ctl, const char *op, uid_t uid, uint8_t E[LK_ESCROW_KEY_SIZE],
                            bool *ret_bound)
{
	struct lk_kdf_params kdf;
	uint32_t rflags = 0;
	int r;

	r = ctl_kdf_params_flags(ctl, op, uid, LK_KDF_F_KIND(LK_SLOT_ESCROW), &kdf, &rflags);
	if (r != 0)
		return r;
	*ret_bound = rflags & LK_KDF_RF_BOUND;
	if (kdf.alg != LK_KDF_X25519 || kdf.salt_len != LK_ESCROW_KEY_SIZE)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "latchkeyd answered with parameters that are not an escrow slot's");
	memcpy(E, kdf.salt, LK_ESCROW_KEY_SIZE);
	return 0;
}

static int escrow_request(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow request";
	struct escrow_args a = {};
	struct escrow_line l = {};
	char line[ESCROW_LINE_MAX];
	bool bound = false;
	int r;

	r = parse(ctl, op, argc, argv, "", ARG_USER, &a);
	if (r != 0 || a.done)
		return r;
	r = current_escrow_E(ctl, op, a.uid, l.E, &bound);
	if (r != 0)
		return r;
	l.uid = (uint32_t)a.uid;
	l.version = bound ? 2 : 1;
	if (bound) {
		struct lk_escrow_binding b;

		r = ctl_escrow_binding(op, a.uid, l.user, &b);
		if (r != 0)
			return r;
		memcpy(l.machine_id, b.machine_id, sizeof(l.machine_id));
	}
	if (escrow_line_format(line, sizeof(line), false, &l) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot format the request");
	fprintf(stderr, "Give this line to the holder of the escrow private key; they run\n"
	                "'latchkeyctl escrow answer --private-key KEY.pem' and give back one line.\n");
	fputs(line, stdout);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

/*
 * The holder must know whose reset they allow: the line's user, uid and
 * machine go into W (version 2), so what they confirm is what the answer
 * opens. A version 1 line binds nothing: say so. Exit code or 0.
 */
static int confirm_request(const char *op, const struct escrow_line *l, bool yes)
{
	char m[2 * LK_MACHINE_ID_SIZE + 1], reply[16];
	bool confirmed;
	FILE *tty;

	if (l->version == 2) {
		lk_hex(l->machine_id, sizeof(l->machine_id), m);
		fprintf(stderr, "Request for user %s (uid %u) on machine %s.\n", l->user, (unsigned)l->uid,
		        m);
	} else {
		fprintf(stderr,
		        "Version 1 request for uid %u: its slot is bound to no user name and no machine, so\n"
		        "the answer opens that slot whoever presents it. Check the uid and where the\n"
		        "request came from.\n",
		        (unsigned)l->uid);
	}
	if (yes)
		return 0;
	/* stdin carries the request; the confirmation comes from the holder. */
	tty = fopen("/dev/tty", "re");
	if (!tty)
		return ctl_fail(CTL_EXIT_USAGE, op,
		                "no terminal to confirm on; check the request and pass --yes");
	fputs("Answer it? [y/N] ", stderr);
	confirmed = fgets(reply, sizeof(reply), tty) && (reply[0] == 'y' || reply[0] == 'Y');
	fclose(tty);
	if (!confirmed)
		return ctl_fail(CTL_EXIT_FAILED, op, "not confirmed; no answer given");
	return 0;
}

static int escrow_answer(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow answer";
	struct passphrase in _cleanup_passphrase_ = {};
	struct lk_secret priv _cleanup_secret_ = {};
	struct lk_secret pem _cleanup_secret_ = {};
	struct lk_secret ans _cleanup_secret_ = {};
	struct escrow_args a = {};
	struct escrow_line *l;
	size_t len;
	mode_t mode;
	int r;

	r = parse(ctl, op, argc, argv, "private-key yes", ARG_NONE, &a);
	if (r != 0 || a.done)
		return r;
	if (!a.file)
		return ctl_usage_error("escrow", "%s: --private-key PRIVATE.pem is required", op);

	if (lk_secret_new(&priv, LK_ESCROW_KEY_SIZE) < 0 || lk_secret_new(&pem, LK_ESCROW_PEM_MAX) < 0 ||
	    lk_secret_new(&ans, sizeof(struct escrow_line) + ESCROW_LINE_MAX) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory");
	l = ans.ptr;

	if (isatty(STDIN_FILENO))
		fputs("Request line: ", stderr);
	r = passphrase_read_fd(STDIN_FILENO, &in);
	if (r < 0)
		return ctl_fail(CTL_EXIT_USAGE, op, "no request line on standard input");
	r = escrow_line_parse(in.buf.ptr, in.len, false, l);
	if (r == -EBADRQC)
		return ctl_fail(CTL_EXIT_USAGE, op, "that is an answer line; give the request line");
	if (r < 0)
		return ctl_fail(CTL_EXIT_USAGE, op,
		                "not an escrow request line (expected '%s 2 uid=UID user=NAME machine=<32 "
		                "hex> E=<64 hex>')",
		                ESCROW_REQUEST_TAG);
	r = confirm_request(op, l, a.yes);
	if (r != 0)
		return r;

	r = read_key_file(op, a.file, pem.ptr, pem.len, &len, &mode);
	if (r != 0)
		return r;
	if (mode & 077)
		fprintf(stderr, "latchkeyctl: %s: warning: %s can be read by other users (mode %04o)\n", op,
		        a.file, (unsigned)mode);
	r = lk_escrow_private_from_pem(pem.ptr, len, priv.ptr);
	if (r == -ENOKEY)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "%s is encrypted; this command reads only unencrypted PKCS#8 keys", a.file);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s is not an X25519 private key in PEM form", a.file);

	if (l->version == 2) {
		struct lk_escrow_binding b = {.uid = l->uid, .user = l->user};

		memcpy(b.machine_id, l->machine_id, sizeof(b.machine_id));
		r = lk_escrow_open_bound(priv.ptr, l->E, &b, l->W);
	} else
		r = lk_escrow_open(priv.ptr, l->E, l->W);
	if (r == -EINVAL)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "the request's E is not a usable public key (damaged line?)");
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot compute the answer: %s", strerror(-r));

	if (escrow_line_format((char *)(l + 1), ESCROW_LINE_MAX, true, l) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot format the answer");
	fprintf(stderr,
	        "This answer lets the administrator of the machine that made the request set a new\n"
	        "passphrase for uid %u, once%s. Send it over a channel you trust.\n",
	        (unsigned)l->uid, l->version == 2 ? " (for that user on that machine only)" : "");
	if (ctl_write_secret(STDOUT_FILENO, (char *)(l + 1), strlen((char *)(l + 1))) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot write the answer");
	return CTL_EXIT_OK;
}

/* An answer made for another user or machine: refused before anything is
 * sent (latchkeyd would refuse it too: the W is not this slot's). */
static int check_answer_binding(const char *op, const struct escrow_line *l, uid_t uid, const char *user,
                                bool bound)
{
	struct lk_escrow_binding b;
	char name[LK_BOUND_NAME_MAX + 1];
	int r;

	if (l->uid != (uint32_t)uid)
		return ctl_fail(CTL_EXIT_USAGE, op, "this answer is for uid %u, not %s (uid %u)",
		                (unsigned)l->uid, user, (unsigned)uid);
	if (!bound)
		return l->version == 1 ? 0
		                       : ctl_fail(CTL_EXIT_AUTH, op,
		                                  "%s's escrow slot is a version 1 one; this "
		                                  "answer is for another slot",
		                                  user);
	if (l->version != 2)
		return ctl_fail(CTL_EXIT_AUTH, op,
		                "a version 1 answer cannot open %s's escrow slot (bound to user "
		                "and machine); make a new request",
		                user);
	r = ctl_escrow_binding(op, uid, name, &b);
	if (r != 0)
		return r;
	if (strcmp(l->user, name) != 0)
		return ctl_fail(CTL_EXIT_AUTH, op, "this answer is for user %s, not %s", l->user, name);
	if (memcmp(l->machine_id, b.machine_id, sizeof(b.machine_id)) != 0)
		return ctl_fail(CTL_EXIT_AUTH, op, "this answer is for another machine (see %s)",
		                LK_MACHINE_ID_PATH);
	return 0;
}

static int escrow_recover(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "escrow recover";
	struct passphrase in _cleanup_passphrase_ = {};
	struct lk_secret ans _cleanup_secret_ = {};
	struct lk_secret w_new _cleanup_secret_ = {};
	struct escrow_args a = {};
	struct lk_kdf_params kdf_new;
	struct escrow_line *l;
	uint8_t E[LK_ESCROW_KEY_SIZE];
	bool bound = false;
	char bad[256];
	int r;

	r = parse(ctl, op, argc, argv, "config-dir json", ARG_USER, &a);
	if (r != 0 || a.done)
		return r;
	if (lk_secret_new(&ans, sizeof(struct escrow_line)) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory");
	l = ans.ptr;

	r = ctl_read_secret_line(op, "Escrow answer: ", "escrow answer line", &in);
	if (r != 0)
		return r;
	r = escrow_line_parse(in.buf.ptr, in.len, true, l);
	passphrase_release(&in);
	if (r == -EBADRQC)
		return ctl_fail(
		    CTL_EXIT_USAGE, op,
		    "that is the request line; give the answer that 'escrow answer' printed for it");
	if (r < 0)
		return ctl_fail(CTL_EXIT_USAGE, op,
		                "not an escrow answer line (expected '%s 2 uid=UID user=NAME "
		                "machine=... E=... W=...')",
		                ESCROW_ANSWER_TAG);

	r = current_escrow_E(ctl, op, a.uid, E, &bound);
	if (r != 0)
		return r;
	r = check_answer_binding(op, l, a.uid, a.user, bound);
	if (r != 0)
		return r;
	if (!lk_secret_equal(E, l->E, sizeof(E)))
		return ctl_fail(
		    CTL_EXIT_AUTH, op,
		    "this answer is for an escrow slot %s no longer has (used, or replaced since); "
		    "make a new one with 'latchkeyctl escrow request %s'",
		    a.user, a.user);

	r = ctl_new_login_key(ctl, op, a.uid, a.user, &kdf_new, &w_new);
	if (r != 0)
		return r;
	/* One atomic step: the new passphrase, a new P under which every
	 * wrapped key is resealed, a fresh escrow slot (latchkeyd seals it to
	 * escrow.pub): the used answer opens nothing now, not even with an old
	 * copy of the protector file. */
	snprintf(
	    bad, sizeof(bad),
	    "the answer does not open %s's escrow slot (made with another escrow key?); nothing was changed",
	    a.user);
	r = ctl_rotate(ctl, op, a.uid, a.user, LK_SLOT_ESCROW, l->W, w_new.ptr, &kdf_new, bad);
	if (r != 0)
		return r;
	ctl_print_reset_done(ctl, a.user, a.uid, NULL);
	return CTL_EXIT_OK;
}

int cmd_escrow(struct ctl *ctl, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct ctl *ctl, int argc, char **argv);
	} subs[] = {
	    {"keygen", escrow_keygen},   {"enable", escrow_enable}, {"add", escrow_add},
	    {"request", escrow_request}, {"answer", escrow_answer}, {"recover", escrow_recover},
	};

	if (argc < 2)
		return ctl_usage_error("escrow", "expected a subcommand");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		escrow_help();
		return CTL_EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			/* getopt sees the subcommand as argv[0]. */
			return subs[i].run(ctl, argc - 1, argv + 1);
	return ctl_usage_error("escrow", "unknown subcommand '%s'", argv[1]);
}
