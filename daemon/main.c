/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyd: owns latchkey's metadata and every key it puts in the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "server.h"
#include "rotate.h"
#include "memlock.h"
#include "daemon_config.h"
#include "login.h"
#include "log.h"
#include "machine_id.h"
#include "secret.h"

struct options {
	const char *socket_path;
	const char *state_dir;
	const char *config_dir;
	const char *vendor_config_dir;
	const char *runtime_dir;
	int log_level;
	bool print_paths;
};

#define DEFAULT_RUNTIME_DIR "/run/latchkey"

static void help(void)
{
	printf("Usage: latchkeyd [OPTIONS]\n"
	       "\n"
	       "latchkey daemon: unwraps users' keys and installs them in the kernel at login,\n"
	       "removes them when the last session ends. Runs in the foreground; normally\n"
	       "started by latchkeyd.socket.\n"
	       "\n"
	       "  --socket PATH      listen on PATH instead of the socket passed by systemd\n"
	       "                     (default when not socket-activated: %s)\n"
	       "  --state-dir DIR    metadata directory (default %s)\n"
	       "  --config-dir DIR   configuration directory (default %s)\n"
	       "  --vendor-config-dir DIR\n"
	       "                     vendor defaults, overridden by --config-dir (default %s)\n"
	       "  --runtime-dir DIR  where live sessions are recorded for a restart (default: the\n"
	       "                     socket's directory, %s)\n"
	       "  --print-paths      print the socket and directories these options give, one\n"
	       "                     NAME=PATH a line (socket, state_dir, config_dir,\n"
	       "                     vendor_config_dir, runtime_dir), and exit\n"
	       "  --debug            log debug messages\n"
	       "  -h --help          show this help\n"
	       "  --version          show the version\n"
	       "\n"
	       "Exit status: 0 after a clean stop (SIGTERM), 1 on a fatal error.\n",
	       LK_SOCKET_PATH, LK_DEFAULT_STATE_DIR, LK_DEFAULT_CONFIG_DIR, LK_VENDOR_CONFIG_DIR,
	       DEFAULT_RUNTIME_DIR);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum {
		ARG_SOCKET = 0x100,
		ARG_STATE,
		ARG_CONFIG,
		ARG_VENDOR_CONFIG,
		ARG_RUNTIME,
		ARG_PRINT_PATHS,
		ARG_DEBUG,
		ARG_VERSION
	};
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, ARG_SOCKET},
	    {"state-dir", required_argument, NULL, ARG_STATE},
	    {"config-dir", required_argument, NULL, ARG_CONFIG},
	    {"vendor-config-dir", required_argument, NULL, ARG_VENDOR_CONFIG},
	    {"runtime-dir", required_argument, NULL, ARG_RUNTIME},
	    {"print-paths", no_argument, NULL, ARG_PRINT_PATHS},
	    {"debug", no_argument, NULL, ARG_DEBUG},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case ARG_SOCKET:
			o->socket_path = optarg;
			break;
		case ARG_STATE:
			o->state_dir = optarg;
			break;
		case ARG_CONFIG:
			o->config_dir = optarg;
			break;
		case ARG_VENDOR_CONFIG:
			o->vendor_config_dir = optarg;
			break;
		case ARG_RUNTIME:
			o->runtime_dir = optarg;
			break;
		case ARG_PRINT_PATHS:
			o->print_paths = true;
			break;
		case ARG_DEBUG:
			o->log_level = LOG_DEBUG;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("latchkeyd %s\n", LK_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'latchkeyd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "latchkeyd: unexpected argument '%s'. Try 'latchkeyd --help'.\n",
		        argv[optind]);
		return -EINVAL;
	}
	for (const char **p = (const char *[]){o->socket_path, o->state_dir, o->config_dir,
	                                       o->vendor_config_dir, o->runtime_dir},
	                **end = p + 5;
	     p < end; p++)
		if (*p && (*p)[0] != '/') {
			fprintf(stderr, "latchkeyd: '%s' is not an absolute path\n", *p);
			return -EINVAL;
		}
	return 1;
}

/* --runtime-dir, else the directory of --socket (a daemon on a socket of
 * its own records its sessions next to it), else the default. */
static char *runtime_dir_of(const struct options *o)
{
	if (o->runtime_dir)
		return strdup(o->runtime_dir);
	if (o->socket_path)
		return strndup(o->socket_path, (size_t)(strrchr(o->socket_path, '/') - o->socket_path) ?: 1);
	return strdup(DEFAULT_RUNTIME_DIR);
}

/* What an installation is checked against: tmpfiles.d and the units must
 * name the same directories. */
static int print_paths(const struct options *o)
{
	_cleanup_free_ char *runtime_dir = runtime_dir_of(o);

	if (!runtime_dir) {
		fprintf(stderr, "latchkeyd: out of memory\n");
		return -ENOMEM;
	}
	printf("socket=%s\nstate_dir=%s\nconfig_dir=%s\nvendor_config_dir=%s\nruntime_dir=%s\n",
	       o->socket_path ?: LK_SOCKET_PATH, o->state_dir ?: LK_DEFAULT_STATE_DIR,
	       o->config_dir ?: LK_DEFAULT_CONFIG_DIR, o->vendor_config_dir ?: LK_VENDOR_CONFIG_DIR,
	       runtime_dir);
	return 0;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t n = strlen(path);

	if (n >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "socket path %s is too long", path);
	memcpy(sa.sun_path, path, n);

	/* Replace a stale socket from an earlier run, but nothing else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(-EEXIST, "%s exists and is not a socket; not touching it",
			                       path);
		if (unlink(path) < 0)
			return log_error_errno(-errno, "cannot remove stale socket %s", path);
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket()");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(-errno, "cannot bind %s", path);
	/* Users may query and lock themselves; authorisation is SO_PEERCRED. */
	if (chmod(path, 0666) < 0)
		return log_error_errno(-errno, "chmod %s", path);
	if (listen(fd, LISTEN_BACKLOG) < 0)
		return log_error_errno(-errno, "listen on %s", path);
	return TAKE_FD(fd);
}

/* The path we bound ourselves (not socket-activated), removed at exit. */
static const char *bound_path;

static int get_listen_fd(const char *path)
{
	int n = sd_listen_fds(1);

	if (n < 0)
		return log_error_errno(n, "cannot read the sockets passed by systemd");
	if (n > 1)
		return log_error_errno(-EINVAL, "expected one socket from systemd, got %d", n);
	if (n == 1 && !path) {
		int flags;

		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0)
			return log_error_errno(
			    -EINVAL, "the socket passed by systemd is not a listening SOCK_SEQPACKET");
		/* systemd passes it blocking: the accept loop takes connections in
		 * batches until EAGAIN, which a blocking accept4 would wait for. */
		flags = fcntl(SD_LISTEN_FDS_START, F_GETFL);
		if (flags < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, flags | O_NONBLOCK) < 0)
			return log_error_errno(-errno,
			                       "cannot make the socket passed by systemd non-blocking");
		return SD_LISTEN_FDS_START;
	}
	bound_path = path ? path : LK_SOCKET_PATH;
	return bind_socket(bound_path);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->event, 0);
}

static int alloc_buffers(struct daemon *d)
{
	bool l1 = false, l2 = false, l3 = false, l4 = false;

	/* From here on an unlockable secret page is refused, never used. */
	daemon_memlock_setup(d);
	d->rx = lk_secret_alloc(LK_MSG_MAX, &l1);
	d->tx = lk_secret_alloc(LK_MSG_MAX, &l2);
	d->req = lk_secret_alloc(sizeof(struct lk_msg), &l3);
	d->rep = lk_secret_alloc(sizeof(struct lk_msg), &l4);
	if (!d->rx || !d->tx || !d->req || !d->rep)
		return log_error_errno(
		    -ENOMEM, "cannot allocate locked message buffers (mlock; check RLIMIT_MEMLOCK / "
		             "LimitMEMLOCK=): refusing to handle keys");
	/* Keys must never reach swap: refuse to run rather than handle them in
	 * pageable memory. */
	if (!l1 || !l2 || !l3 || !l4)
		return log_error_errno(-EPERM,
		                       "cannot lock memory (mlock; check RLIMIT_MEMLOCK / LimitMEMLOCK=): "
		                       "refusing to handle keys");
	return 0;
}

static void free_buffers(struct daemon *d)
{
	lk_secret_free(d->rx, LK_MSG_MAX);
	lk_secret_free(d->tx, LK_MSG_MAX);
	lk_secret_free(d->req, sizeof(struct lk_msg));
	lk_secret_free(d->rep, sizeof(struct lk_msg));
}

int main(int argc, char **argv)
{
	struct options o = {.log_level = LOG_INFO};
	struct daemon d = {.listen_fd = -1, .store = {-1, -1, -1}, .sessions_fd = -1};
	_cleanup_free_ char *runtime_dir = NULL;
	sigset_t ss;
	int r, fd;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (o.print_paths)
		return print_paths(&o) < 0 ? 1 : 0;
	log_setup(o.log_level);

	/* No core dumps, no same-uid ptrace, /proc/PID owned by root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warning_errno(-errno, "cannot make the process non-dumpable");
	umask(0077);
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0)
		log_warning("not running as root: adding keys and reading trusted.* xattrs will fail");

	r = alloc_buffers(&d);
	if (r < 0)
		goto out;
	d.config_dir = o.config_dir ? o.config_dir : LK_DEFAULT_CONFIG_DIR;
	d.vendor_config_dir = o.vendor_config_dir ? o.vendor_config_dir : LK_VENDOR_CONFIG_DIR;
	lk_config_init(&d.config);
	r = store_open(o.state_dir ? o.state_dir : LK_DEFAULT_STATE_DIR, &d.store);
	if (r < 0)
		goto out;
	r = lk_machine_id(d.machine_id);
	d.have_machine_id = r == 0;
	if (r < 0)
		log_warning_errno(r, "cannot read %s: escrow slots bound to this machine cannot be used",
		                  LK_MACHINE_ID_PATH);
	/* Before anyone is served: no root may stay half rotated. */
	daemon_rotation_recover(&d);

	r = sd_event_default(&d.event);
	if (r < 0) {
		log_error_errno(r, "cannot create the event loop");
		goto out;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d);
	sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d);
	r = daemon_reload_setup(&d);
	if (r < 0)
		goto out;

	/* Sessions first: a restarted daemon adopts the live ones and locks
	 * the users who logged out while it was down, before it serves anyone. */
	runtime_dir = runtime_dir_of(&o);
	if (!runtime_dir) {
		r = log_error_errno(-ENOMEM, "out of memory");
		goto out;
	}
	if (sessions_open(&d, runtime_dir) < 0)
		log_warning(
		    "running without session records: a restart of latchkeyd will forget live sessions");
	r = sessions_rebuild(&d);
	if (r < 0)
		log_warning_errno(r, "state not fully rebuilt; continuing");

	fd = get_listen_fd(o.socket_path);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = server_start(&d, fd);
	if (r < 0)
		goto out;

	log_info("latchkeyd %s ready", LK_VERSION);
	sd_notify(0, "READY=1\nSTATUS=Ready for logins.");
	r = sd_event_loop(d.event);
	if (r < 0)
		log_error_errno(r, "event loop failed");

out:
	server_stop(&d);
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		if (bound_path)
			unlink(bound_path);
	}
	d.retry_timer = sd_event_source_disable_unref(d.retry_timer);
	daemon_logout_free(&d);
	daemon_config_free(&d);
	sessions_free(&d);
	users_free(&d.users);
	store_close(&d.store);
	sd_event_unref(d.event);
	free_buffers(&d);
	return r < 0 ? 1 : 0;
}
