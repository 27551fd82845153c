/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "passphrase.h"

void passphrase_release(struct passphrase *pw)
{
	lk_secret_release(&pw->buf);
	pw->len = 0;
}

int passphrase_read_fd(int fd, struct passphrase *ret)
{
	struct passphrase pw _cleanup_passphrase_ = {};
	char *p;
	int r;

	r = lk_secret_new(&pw.buf, CTL_PASSPHRASE_MAX + 1);
	if (r < 0)
		return r;
	p = pw.buf.ptr;

	/* One byte per read(2): we must not consume input past the newline
	 * and must not leave a copy in a stdio buffer. At most 1 KiB anyway. */
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			lk_wipe(&c, sizeof(c));
			return r;
		}
		if (k == 0 || c == '\n')
			break;
		if (c == '\0')
			return -EILSEQ;
		if (pw.len >= CTL_PASSPHRASE_MAX) {
			lk_wipe(&c, sizeof(c));
			return -EMSGSIZE;
		}
		p[pw.len++] = c;
		lk_wipe(&c, sizeof(c));
	}

	if (pw.len == 0)
		return -ENODATA;

	*ret = pw;
	pw = (struct passphrase){}; /* ownership moved */
	return 0;
}

/* The terminal state to restore from a signal handler. A CLI reads one
 * passphrase at a time, so one saved state is enough. */
static volatile sig_atomic_t tty_saved_fd = -1;
static struct termios tty_saved;

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

static void tty_signal_handler(int sig)
{
	int fd = tty_saved_fd;

	/* tcsetattr, write, signal and raise are async-signal-safe. */
	if (fd >= 0) {
		(void)tcsetattr(fd, TCSAFLUSH, &tty_saved);
		(void)!write(fd, "\n", 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int tty_read_line(int fd, const char *prompt, struct passphrase *ret)
{
	struct termios noecho;
	struct sigaction sa = {.sa_handler = tty_signal_handler};
	struct sigaction old[ELEMENTSOF(tty_signals)];
	int r;

	if (tcgetattr(fd, &tty_saved) < 0)
		return -errno;
	noecho = tty_saved;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ICANON;

	sigemptyset(&sa.sa_mask);
	tty_saved_fd = fd;
	for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++)
		sigaction(tty_signals[i], &sa, &old[i]);

	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &noecho) < 0) {
		r = -errno;
	} else {
		r = passphrase_read_fd(fd, ret);
		/* The user's Enter was not echoed: end the prompt line ourselves. */
		(void)!write(fd, "\n", 1);
	}

	(void)tcsetattr(fd, TCSAFLUSH, &tty_saved);
	for (size_t i = 0; i < ELEMENTSOF(tty_signals); i++)
		sigaction(tty_signals[i], &old[i], NULL);
	tty_saved_fd = -1;
	return r;
}

int passphrase_prompt(const char *prompt, bool confirm, struct passphrase *ret)
{
	struct passphrase first _cleanup_passphrase_ = {};
	struct passphrase second _cleanup_passphrase_ = {};
	_cleanup_close_ int fd = -1;
	int r;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -ENXIO;

	r = tty_read_line(fd, prompt, &first);
	if (r < 0)
		return r;

	if (confirm) {
		bool same;

		r = tty_read_line(fd, "Repeat passphrase: ", &second);
		if (r < 0)
			return r;
		/* Both buffers are zero past their length and hold no NUL, so
		 * comparing whole buffers is comparing the strings. */
		same = first.len == second.len &&
		       lk_secret_equal(first.buf.ptr, second.buf.ptr, CTL_PASSPHRASE_MAX + 1);
		if (!same)
			return -EKEYREJECTED;
	}

	*ret = first;
	first = (struct passphrase){};
	return 0;
}

const char *passphrase_strerror(int r)
{
	switch (r) {
	case -ENODATA:
		return "empty passphrase refused";
	case -EMSGSIZE:
		return "passphrase longer than 1024 bytes";
	case -EILSEQ:
		return "passphrase contains a NUL byte";
	case -EKEYREJECTED:
		return "passphrases do not match";
	case -ENXIO:
		return "no terminal to prompt on; use --passphrase-stdin";
	default:
		return strerror(-r);
	}
}
