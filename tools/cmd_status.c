/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl status: enrolled users with their slots and sessions, and
 * their directories with their key state. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "ctl.h"
#include "listing.h"
#include "json_out.h"
#include "output.h"
#include "status_home.h"

static void status_help(void)
{
	printf("Usage: latchkeyctl status [USER|DIR] [--json]\n"
	       "\n"
	       "Show enrolled users (their login, recovery and escrow slots with the key\n"
	       "derivation parameters, and live sessions) and their encrypted directories,\n"
	       "key identifiers and states. With USER, only that user's; with DIR (an\n"
	       "absolute path), only the directory containing it. Without an argument root\n"
	       "sees all users and everybody else their own.\n"
	       "\n"
	       "Directory states: unlocked, locked, incompletely-locked (files still in use),\n"
	       "unavailable (directory or its filesystem unreachable), gone (deleted: drop it\n"
	       "with 'latchkeyctl forget DIR'), unknown.\n"
	       "\n"
	       "Options:\n"
	       "  --json      print {\"schema_version\",\"users\":[...],\"policies\":[...]}, as\n"
	       "              described by latchkeyctl.schema.json (with USER, also\n"
	       "              \"home_not_encrypted\":PATH when USER's home is plain); on\n"
	       "              failure an error object\n"
	       "  -h, --help  show this help\n");
}

/* DIR is inside (or is) the encrypted root at path. */
static bool path_covers(const char *root, const char *dir)
{
	size_t n = strlen(root);

	if (strncmp(root, dir, n) != 0)
		return false;
	return dir[n] == '\0' || dir[n] == '/' || (n == 1 && root[0] == '/');
}

/* The current account name of uid, or NULL. */
static const char *current_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : NULL;
}

static struct json_object *json_slot(const struct ctl_slot *s)
{
	struct json_object *o = json_object_new_object(), *kdf = json_object_new_object();

	json_out_add_string(o, "kind", lk_slot_kind_to_string(s->kind));
	json_out_add_uint(o, "id", s->id);
	if (s->kdf.alg == LK_KDF_X25519) {
		json_out_add_string(kdf, "algorithm", "x25519");
	} else {
		json_out_add_string(kdf, "algorithm", "argon2id");
		json_out_add_uint(kdf, "t_cost", s->kdf.t_cost);
		json_out_add_uint(kdf, "m_cost_kib", s->kdf.m_cost_kib);
		json_out_add_uint(kdf, "parallelism", s->kdf.parallelism);
	}
	json_object_object_add(o, "kdf", kdf);
	return o;
}

static struct json_object *json_root(const struct ctl_root *e, bool with_user)
{
	struct json_object *o = json_object_new_object();
	char key_id[2 * LK_KEY_ID_SIZE + 1];

	hex_format(e->key_id, LK_KEY_ID_SIZE, key_id);
	if (with_user) {
		json_object_object_add(o, "user", json_out_string_or_null(current_name(e->uid)));
		json_out_add_uint(o, "uid", e->uid);
	}
	json_out_add_string(o, "path", e->path);
	json_out_add_string(o, "key_id", key_id);
	json_out_add_string(o, "state", lk_key_state_to_string(e->state));
	if (with_user)
		json_object_object_add(o, "sessions",
		                       e->has_sessions ? json_object_new_uint64(e->sessions) : NULL);
	return o;
}

static struct json_object *json_user(const struct ctl_user *u, const struct ctl_root *roots, size_t n_roots,
                                     const bool *shown)
{
	struct json_object *o = json_object_new_object(), *slots = json_object_new_array(),
	                   *dirs = json_object_new_array();

	json_object_object_add(o, "user", json_out_string_or_null(current_name(u->uid)));
	json_out_add_uint(o, "uid", u->uid);
	json_object_object_add(o, "account", json_out_string_or_null(u->account));
	json_out_add_bool(o, "former_account", u->flags & LK_UF_OTHER_ACCOUNT);
	json_out_add_bool(o, "enrolled", u->flags & LK_UF_ENROLLED);
	json_out_add_bool(o, "key_held", u->flags & LK_UF_KEY_HELD);
	json_out_add_uint(o, "sessions", u->sessions);
	for (unsigned s = 0; s < u->n_slots; s++)
		json_object_array_add(slots, json_slot(&u->slots[s]));
	json_object_object_add(o, "slots", slots);
	for (size_t r = 0; r < n_roots; r++)
		if (shown[r] && roots[r].uid == u->uid)
			json_object_array_add(dirs, json_root(&roots[r], false));
	json_object_object_add(o, "directories", dirs);
	return o;
}

static void print_json(const struct ctl_user *users, size_t n_users, const struct ctl_root *roots,
                       size_t n_roots, const bool *shown, const char *plain_home)
{
	struct json_object *doc = json_out_versioned(), *list = json_object_new_array(),
	                   *policies = json_object_new_array();

	for (size_t i = 0; i < n_users; i++)
		json_object_array_add(list, json_user(&users[i], roots, n_roots, shown));
	json_object_object_add(doc, "users", list);
	for (size_t r = 0; r < n_roots; r++)
		if (shown[r])
			json_object_array_add(policies, json_root(&roots[r], true));
	json_object_object_add(doc, "policies", policies);
	if (plain_home)
		json_out_add_string(doc, "home_not_encrypted", plain_home);
	(void)json_out_print(doc);
}

/* "alice", or "bob (former account of uid 1002)" for a reused uid;
 * padded to width. */
static void print_owner(const char *account, uid_t uid, bool former, int width)
{
	const char *now = current_name(uid);
	char uidbuf[16];
	const char *name;

	snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
	if (former) {
		text_print_escaped(stdout, account[0] ? account : "?");
		printf(" (former account of uid %u)", (unsigned)uid);
		return;
	}
	name = now ? now : uidbuf;
	text_print_escaped(stdout, name);
	if ((int)strlen(name) < width)
		printf("%*s", width - (int)strlen(name), "");
}

static void print_slots(const struct ctl_user *u)
{
	if (u->n_slots == 0)
		fputs("-", stdout);
	for (unsigned s = 0; s < u->n_slots; s++) {
		const struct ctl_slot *sl = &u->slots[s];
		if (sl->kdf.alg == LK_KDF_X25519)
			printf("%s%s(x25519)", s ? " " : "", lk_slot_kind_to_string(sl->kind));
		else
			printf("%s%s(argon2id t=%u m=%uMiB p=%u)", s ? " " : "",
			       lk_slot_kind_to_string(sl->kind), sl->kdf.t_cost, sl->kdf.m_cost_kib / 1024,
			       sl->kdf.parallelism);
	}
	putchar('\n');
}

static void print_text(const struct ctl_user *users, size_t n_users, const struct ctl_root *roots,
                       size_t n_roots, const bool *shown)
{
	char key_id[2 * LK_KEY_ID_SIZE + 1];
	unsigned n_shown = 0;

	if (n_users) {
		printf("%-12s %-7s %-8s %s\n", "USER", "UID", "SESSIONS", "SLOTS");
		for (size_t i = 0; i < n_users; i++) {
			const struct ctl_user *u = &users[i];
			print_owner(u->account, u->uid, u->flags & LK_UF_OTHER_ACCOUNT, 12);
			printf(" %-7u %-8u ", (unsigned)u->uid, u->sessions);
			print_slots(u);
		}
		putchar('\n');
	}
	for (size_t r = 0; r < n_roots; r++)
		n_shown += shown[r];
	if (n_shown == 0)
		return;
	printf("%-12s %s %-32s %s %s\n", "USER", "PATH", "KEY-ID", "STATE", "SESSIONS");
	for (size_t r = 0; r < n_roots; r++) {
		const struct ctl_root *e = &roots[r];
		const char *now = current_name(e->uid);
		bool former = e->account[0] && (!now || strcmp(now, e->account) != 0);

		if (!shown[r])
			continue;
		hex_format(e->key_id, LK_KEY_ID_SIZE, key_id);
		print_owner(e->account, e->uid, former, 12);
		putchar(' ');
		text_print_escaped(stdout, e->path);
		printf(" %s %s ", key_id, lk_key_state_to_string(e->state));
		if (e->has_sessions)
			printf("%u\n", e->sessions);
		else
			puts("-");
	}
	for (size_t r = 0; r < n_roots; r++)
		if (shown[r] && roots[r].state == LK_KEY_GONE) {
			putchar('\n');
			text_print_escaped(stdout, roots[r].path);
			fputs(" no longer exists; `latchkeyctl forget ", stdout);
			text_print_escaped(stdout, roots[r].path);
			fputs("` drops it.\n", stdout);
		}
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	_cleanup_free_ struct ctl_user *users = NULL;
	_cleanup_free_ struct ctl_root *roots = NULL;
	_cleanup_free_ bool *shown = NULL;
	_cleanup_free_ char *dir = NULL;
	size_t n_users = 0, n_roots = 0, kept = 0;
	uint32_t uid = LK_UID_NONE;
	unsigned n_shown = 0;
	char home[4096], name[256];
	bool plain_home;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			status_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("status", "invalid option");
		}
	}
	if (argc - optind > 1)
		return ctl_usage_error("status", "expected at most one USER or DIR");

	if (argc - optind == 1 && argv[optind][0] == '/') {
		/* Policies are listed by real path; compare like with like. A
		 * deleted directory is compared as given. */
		dir = realpath(argv[optind], NULL);
		if (!dir)
			dir = strdup(argv[optind]);
		if (!dir)
			return ctl_fail(CTL_EXIT_FAILED, "status", "out of memory");
	} else if (argc - optind == 1) {
		uid_t u;
		r = ctl_resolve_user("status", argv[optind], &u);
		if (r != 0)
			return r;
		uid = u;
	} else if (geteuid() != 0) {
		uid = geteuid();
	}

	r = ctl_list_roots(ctl, "status", uid, &roots, &n_roots);
	if (r != 0)
		return r;
	r = ctl_list_users(ctl, "status", uid, &users, &n_users);
	if (r != 0)
		return r;
	shown = calloc(n_roots ? n_roots : 1, sizeof(*shown));
	if (!shown)
		return ctl_fail(CTL_EXIT_FAILED, "status", "out of memory");
	for (size_t i = 0; i < n_roots; i++) {
		shown[i] = !dir || path_covers(roots[i].path, dir);
		n_shown += shown[i];
	}
	/* With DIR, only the users owning what is shown. */
	for (size_t i = 0; dir && i < n_users; i++) {
		bool owns = false;
		for (size_t j = 0; j < n_roots && !owns; j++)
			owns = shown[j] && roots[j].uid == users[i].uid;
		if (owns)
			users[kept++] = users[i];
	}
	if (dir)
		n_users = kept;

	plain_home =
	    uid != LK_UID_NONE && !dir && status_plain_home(uid, home, sizeof(home), name, sizeof(name));
	if (ctl->json) {
		print_json(users, n_users, roots, n_roots, shown, plain_home ? home : NULL);
	} else {
		print_text(users, n_users, roots, n_roots, shown);
		if (plain_home) {
			text_print_escaped(stdout, home);
			fputs(": not encrypted: run latchkeyctl migrate ", stdout);
			text_print_escaped(stdout, home);
			fputs(" --user ", stdout);
			text_print_escaped(stdout, name);
			fputc('\n', stdout);
		}
	}
	if (!ctl->json && n_shown == 0 && !plain_home)
		fputs(dir ? "No encrypted directory contains this path.\n" : "No encrypted directories.\n",
		      stdout);
	return CTL_EXIT_OK;
}
