/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon, its units and its state directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "ctl.h"
#include "doctor.h"
#include "secret.h"
#include "wire.h"

void doctor_check_daemon(struct doctor *d)
{
	_cleanup_close_ int fd = -1;
	struct lk_msg *req = NULL, *rep = NULL;
	int r;

	fd = lk_client_connect(d->socket_path, 1, lk_now_ms() + CTL_CONNECT_TIMEOUT_MS);
	if (fd == -EPERM) {
		doctor_add(d, DOCTOR_FAIL, "daemon",
		           "find and stop whatever listens there; systemctl restart latchkeyd.socket",
		           "%s: the listening process is not root", d->socket_path);
		return;
	}
	if (fd < 0) {
		doctor_add(d, DOCTOR_FAIL, "daemon", "systemctl enable --now latchkeyd.socket",
		           "cannot reach latchkeyd at %s: %s", d->socket_path, strerror(-fd));
		return;
	}
	/* A connection alone only proves the socket: ask something. */
	r = ctl_msgs_new(&req, &rep, LK_REQ_STATUS, getuid());
	if (r == 0)
		r = lk_client_call(fd, req, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
	else
		r = -ENOMEM;
	ctl_msg_free(&req);
	ctl_msg_free(&rep);
	if (r < 0)
		doctor_add(d, DOCTOR_FAIL, "daemon",
		           "journalctl -u latchkeyd (why it does not start or answer)",
		           "latchkeyd at %s accepted a connection but gave no valid reply: %s",
		           d->socket_path, strerror(-r));
	else
		doctor_add(d, DOCTOR_OK, "daemon", NULL, "latchkeyd answers at %s", d->socket_path);
}

static bool exists_under(const struct doctor *d, const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	snprintf(full, sizeof(full), "%s%s", d->root, path);
	return lstat(full, &st) == 0;
}

void doctor_check_units(struct doctor *d)
{
	static const char *const unit_dirs[] = {"/etc/systemd/system", "/run/systemd/system",
	                                        "/lib/systemd/system", "/usr/lib/systemd/system",
	                                        "/usr/local/lib/systemd/system"};
	bool have_socket = false, have_service = false;
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
		snprintf(path, sizeof(path), "%s/latchkeyd.socket", unit_dirs[i]);
		have_socket = have_socket || exists_under(d, path);
		snprintf(path, sizeof(path), "%s/latchkeyd.service", unit_dirs[i]);
		have_service = have_service || exists_under(d, path);
	}
	if (!have_socket || !have_service) {
		doctor_add(d, DOCTOR_FAIL, "units", "install latchkey (the Debian package, or meson install)",
		           "latchkeyd.%s is not installed", have_socket ? "service" : "socket");
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		const char *unit = i == 0 ? "latchkeyd.socket" : "latchkeyd.service";
		char fix[128];

		snprintf(path, sizeof(path), "%s/etc/systemd/system/%s", d->root, unit);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, "/dev/null") == 0) {
				snprintf(fix, sizeof(fix), "systemctl unmask %s", unit);
				doctor_add(d, DOCTOR_FAIL, "units", fix, "%s is masked", unit);
				return;
			}
		}
	}
	if (!exists_under(d, "/etc/systemd/system/sockets.target.wants/latchkeyd.socket")) {
		doctor_add(d, DOCTOR_FAIL, "units", "systemctl enable --now latchkeyd.socket",
		           "latchkeyd.socket is not enabled: after a reboot no login reaches latchkeyd");
		return;
	}
	doctor_add(d, DOCTOR_OK, "units", NULL,
	           "latchkeyd.socket enabled (latchkeyd starts on the first login)");
}

/* A directory or file of the state: root's, and nobody else may read it. */
static bool check_private(struct doctor *d, const char *path, bool want_dir)
{
	struct stat st;
	char fix[PATH_MAX + 64];

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && want_dir) {
			snprintf(fix, sizeof(fix),
			         "systemd-tmpfiles --create latchkey.conf (or install -d -m 0700 %s)", path);
			doctor_add(d, DOCTOR_WARN, "state", fix, "%s does not exist: nobody is enrolled yet",
			           path);
		} else
			doctor_add(d, DOCTOR_FAIL, "state", NULL, "%s: %s", path, strerror(errno));
		return false;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		doctor_add(d, DOCTOR_FAIL, "state",
		           "move it aside and restore the state directory from a backup", "%s is not a %s",
		           path, want_dir ? "directory" : "regular file");
		return false;
	}
	if (st.st_uid != 0 || (st.st_mode & 0077)) {
		snprintf(fix, sizeof(fix), "chown root:root %s && chmod %s %s", path,
		         want_dir ? "0700" : "0600", path);
		doctor_add(d, DOCTOR_FAIL, "state", fix,
		           "%s is owned by uid %u with mode %04o: the protector records must be root's alone",
		           path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return false;
	}
	return true;
}

void doctor_check_state_dir(struct doctor *d)
{
	char path[PATH_MAX];
	bool good;

	if (!check_private(d, d->state_dir, true))
		return;
	good = true;
	for (size_t i = 0; i < 2; i++) {
		const char *sub = i == 0 ? "protectors" : "index";
		struct dirent *e;
		_cleanup_(closedirp) DIR *dir = NULL;

		snprintf(path, sizeof(path), "%s/%s", d->state_dir, sub);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			continue; /* made at the first enrolment */
		if (!check_private(d, path, true)) {
			good = false;
			continue;
		}
		dir = opendir(path);
		while (dir && (e = readdir(dir))) {
			char file[PATH_MAX + 256];

			if (e->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			good = check_private(d, file, false) && good;
		}
	}
	if (good)
		doctor_add(d, DOCTOR_OK, "state", NULL, "%s: root's alone (0700, records 0600)",
		           d->state_dir);
}
