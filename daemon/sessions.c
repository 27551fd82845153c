/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Session records: what a daemon restarted after a crash needs to know about
 * the sessions that were live when it died.
 *
 * A live session is a connection held by a login process. When latchkeyd
 * dies, those connections die with it, and the PAM module cannot reconnect
 * (the login process is blocked waiting for the user's shell). So at
 * SESSION_OPEN the daemon also writes an empty file
 *     <runtime>/sessions/<uid>.<pid>.<starttime>
 * naming the login process, and removes it when the session ends. After a
 * restart, each record whose process still lives (a pidfd, and the start
 * time read from /proc when visible, against pid reuse) becomes an adopted
 * session that ends when the process exits; dead records are dropped. Then
 * every user whose keys are in the kernel without a live session is locked.
 * The runtime directory is a tmpfs: a reboot empties it, as it should.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "login.h"
#include "log.h"
#include "names.h"
#include "openat.h"
#include "root.h"
#include "root_ops.h"
#include "sessions.h"

struct adopted {
	struct daemon *d;
	uid_t uid;
	int pidfd;
	sd_event_source *src;
	char record[SESSION_RECORD_NAME_MAX];
	struct adopted *next;
};

/* Field 22 of /proc/PID/stat, in clock ticks since boot. -ENOENT when the
 * process is gone or hidden from us (ProtectProc=invisible hides
 * non-dumpable processes such as sshd's). */
static int process_start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	unsigned long long start;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* The command name may contain spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	/* After ") ": state is field 3; starttime is field 22, 19 fields on. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
	           &start) != 1)
		return -EBADMSG;
	*ret = start;
	return 0;
}

int sessions_open(struct daemon *d, const char *runtime_dir)
{
	_cleanup_close_ int dfd = -1, sfd = -1;
	struct stat st;

	dfd = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return log_error_errno(-errno, "cannot open runtime directory %s", runtime_dir);
	if (mkdirat(dfd, "sessions", 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create %s/sessions", runtime_dir);
	sfd = openat(dfd, "sessions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return log_error_errno(-errno, "cannot open %s/sessions", runtime_dir);
	if (fstat(sfd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 || (st.st_mode & 0077))
		return log_error_errno(-EPERM, "%s/sessions must be root's with mode 0700", runtime_dir);
	d->sessions_fd = TAKE_FD(sfd);
	return 0;
}

int session_record_add(struct daemon *d, uid_t uid, pid_t pid, char ret_name[SESSION_RECORD_NAME_MAX])
{
	uint64_t start = 0;
	int fd;

	ret_name[0] = '\0';
	if (d->sessions_fd < 0)
		return -EBADF;
	/* A login process we cannot see gets start time 0: adopted on the
	 * pidfd alone after a restart. */
	(void)process_start_time(pid, &start);
	snprintf(ret_name, SESSION_RECORD_NAME_MAX, "%u.%d.%" PRIu64, (unsigned)uid, (int)pid, start);
	fd = openat(d->sessions_fd, ret_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int r = -errno;
		ret_name[0] = '\0';
		return log_warning_errno(
		    r, "cannot record the session of uid %u: a daemon restart would lose it", (unsigned)uid);
	}
	close(fd);
	return 0;
}

void session_record_remove(struct daemon *d, const char *name)
{
	if (d->sessions_fd >= 0 && name[0] && unlinkat(d->sessions_fd, name, 0) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "cannot remove session record %s", name);
}

static void adopted_free(struct daemon *d, struct adopted *a)
{
	for (struct adopted **pp = &d->adopted; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	sd_event_source_disable_unref(a->src);
	if (a->pidfd >= 0)
		close(a->pidfd);
	free(a);
}

static int on_adopted_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct adopted *a = userdata;
	struct daemon *d = a->d;
	uid_t uid = a->uid;

	log_info("login process of an adopted session of uid %u ended", (unsigned)uid);
	session_record_remove(d, a->record);
	adopted_free(d, a);
	daemon_session_ended(d, uid);
	return 0;
}

static int parse_record(const char *name, uid_t *uid, pid_t *pid, uint64_t *start)
{
	char buf[SESSION_RECORD_NAME_MAX], *a, *b;
	unsigned long p, s;

	if (strlen(name) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, name);
	a = strchr(buf, '.');
	b = a ? strchr(a + 1, '.') : NULL;
	if (!b)
		return -EINVAL;
	*a++ = '\0';
	*b++ = '\0';
	if (lk_parse_uid(buf, uid) < 0 || lk_parse_uint(a, 1, INT32_MAX, &p) < 0 ||
	    lk_parse_uint(b, 0, ULONG_MAX, &s) < 0)
		return -EINVAL;
	*pid = (pid_t)p;
	*start = s;
	return 0;
}

/* Adopt one record: 1 if its process lives and is watched, 0 if dropped. */
static int adopt_record(struct daemon *d, const char *name)
{
	struct adopted *a;
	uint64_t start, now_start;
	uid_t uid;
	pid_t pid;
	int pidfd, r;

	if (parse_record(name, &uid, &pid, &start) < 0) {
		log_warning("dropping malformed session record %s", name);
		session_record_remove(d, name);
		return 0;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		log_info("session of uid %u ended while latchkeyd was down (pid %d gone)", (unsigned)uid,
		         (int)pid);
		session_record_remove(d, name);
		return 0;
	}
	r = process_start_time(pid, &now_start);
	if (r == 0 && start != 0 && now_start != start) {
		log_info("session of uid %u ended while latchkeyd was down (pid %d reused)", (unsigned)uid,
		         (int)pid);
		close(pidfd);
		session_record_remove(d, name);
		return 0;
	}

	a = calloc(1, sizeof(*a));
	if (!a) {
		close(pidfd);
		return -ENOMEM;
	}
	*a = (struct adopted){.d = d, .uid = uid, .pidfd = pidfd};
	snprintf(a->record, sizeof(a->record), "%s", name);
	struct user *u = user_get(&d->users, uid, true);
	/* A pidfd becomes readable when the process exits. */
	r = u ? sd_event_add_io(d->event, &a->src, pidfd, EPOLLIN, on_adopted_exit, a) : -ENOMEM;
	if (r < 0) {
		close(pidfd);
		free(a);
		return log_error_errno(r, "cannot watch pid %d", (int)pid);
	}
	a->next = d->adopted;
	d->adopted = a;
	u->sessions++;
	log_info("adopted session of uid %u (login pid %d) from before the restart", (unsigned)uid, (int)pid);
	return 1;
}

/* Keys of uid in the kernel: any encrypted root not known to be locked. */
static bool user_has_keys_loaded(struct daemon *d, uid_t uid)
{
	struct lk_index ix;

	if (store_load_index(&d->store, uid, &ix) < 0)
		return false;
	for (unsigned i = 0; i < ix.n; i++) {
		uint32_t state = LK_KEY_UNKNOWN;
		root_status_entry(uid, &ix.e[i], &state);
		if (state == LK_KEY_PRESENT || state == LK_KEY_INCOMPLETELY_REMOVED)
			return true;
	}
	return false;
}

/* Where logind runs, a user it still counts as logged in keeps their keys
 * even without a record (sessions opened before latchkey was installed,
 * or records lost): logind's sessions are the cross-check. */
static bool logind_has_sessions(uid_t uid)
{
	if (sd_booted() <= 0 || access("/run/systemd/users", F_OK) < 0)
		return false;
	return sd_uid_get_sessions(uid, 0, NULL) > 0;
}

static int on_logind_change(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	bool watching = false;

	sd_login_monitor_flush(d->login_monitor);
	for (struct user *u = d->users; u; u = u->next) {
		if (!u->logind_watch)
			continue;
		if (u->sessions == 0 && !logind_has_sessions(u->uid)) {
			log_info("logind reports no session of uid %u any more: locking", (unsigned)u->uid);
			u->logind_watch = false;
			daemon_lock_user_at_logout(d, u, NULL, NULL);
		} else
			watching |= u->logind_watch;
	}
	if (!watching) {
		d->login_monitor_src = sd_event_source_disable_unref(d->login_monitor_src);
		d->login_monitor = sd_login_monitor_unref(d->login_monitor);
	}
	return 0;
}

static int watch_logind(struct daemon *d, struct user *u)
{
	int r;

	u->logind_watch = true;
	if (d->login_monitor)
		return 0;
	r = sd_login_monitor_new("session", &d->login_monitor);
	if (r >= 0)
		r = sd_event_add_io(
		    d->event, &d->login_monitor_src, sd_login_monitor_get_fd(d->login_monitor),
		    (uint32_t)sd_login_monitor_get_events(d->login_monitor), on_logind_change, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch logind's sessions");
	return 0;
}

int sessions_rebuild(struct daemon *d)
{
	_cleanup_free_ uid_t *uids = NULL;
	unsigned adopted = 0, dropped = 0, locked = 0;
	size_t n = 0;
	int r;

	if (d->sessions_fd >= 0) {
		_cleanup_(closedirp) DIR *dir = NULL;

		r = lk_opendir_at(d->sessions_fd, ".", 0, &dir);
		if (r < 0)
			return log_error_errno(r, "cannot read the session records");
		for (struct dirent *de; (de = readdir(dir));) {
			if (de->d_name[0] == '.')
				continue;
			r = adopt_record(d, de->d_name);
			if (r > 0)
				adopted++;
			else
				dropped++;
		}
	}

	r = store_list_indexed_users(&d->store, &uids, &n);
	if (r < 0)
		return log_error_errno(r, "cannot list the root indexes");
	for (size_t i = 0; i < n; i++) {
		struct user *u = user_get(&d->users, uids[i], false);
		if (u && u->sessions > 0)
			continue;
		if (!user_has_keys_loaded(d, uids[i]))
			continue;
		u = user_get(&d->users, uids[i], true);
		if (!u)
			return -ENOMEM;
		if (logind_has_sessions(uids[i]) && watch_logind(d, u) == 0) {
			log_info("uid %u has keys loaded and logind sessions latchkey did not record: "
			         "keeping them "
			         "while logind reports any",
			         (unsigned)uids[i]);
			continue;
		}
		log_info("uid %u has keys loaded but no live session: locking", (unsigned)uids[i]);
		daemon_lock_user_at_logout(d, u, NULL, NULL);
		locked++;
	}
	if (adopted || dropped || locked)
		log_info("state rebuilt: %u session(s) adopted, %u ended while down, %u user(s) locked",
		         adopted, dropped, locked);
	return 0;
}

void sessions_free(struct daemon *d)
{
	d->login_monitor_src = sd_event_source_disable_unref(d->login_monitor_src);
	d->login_monitor = sd_login_monitor_unref(d->login_monitor);
	while (d->adopted)
		adopted_free(d, d->adopted);
	d->sessions_fd = safe_close(d->sessions_fd);
}
