/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the `latchkeyctl policy` subcommands share. */
#ifndef LK_CTL_CACHE_POLICY_H
#define LK_CTL_CACHE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"
#include "config/config.h"

struct json_object;

/* --config-dir and --vendor-dir. */
struct cache_policy_dirs {
	const char *etc;
	const char *vendor;
};

/* Options every policy command takes: --json, --config-dir, --vendor-dir. */
enum { POLICY_OPT_JSON = 0x200, POLICY_OPT_CONFIG, POLICY_OPT_VENDOR };
/* clang-format off */
#define POLICY_COMMON_OPTIONS                                           \
	{"json", no_argument, NULL, POLICY_OPT_JSON},                   \
	{"config-dir", required_argument, NULL, POLICY_OPT_CONFIG},     \
	{"vendor-dir", required_argument, NULL, POLICY_OPT_VENDOR},     \
	{"help", no_argument, NULL, 'h'}
/* clang-format on */
/* Apply one of them: true if opt was one. */
bool cache_policy_common_option(struct ctl *ctl, int opt, struct cache_policy_dirs *dirs);

int cache_policy_assign(struct ctl *ctl, int argc, char **argv);
int cache_policy_remove(struct ctl *ctl, int argc, char **argv);

/* lk_config_load, printing "latchkeyctl: policy OP: FILE:LINE: ..." on
 * error. 0 or an exit code. */
int cache_policy_load(const char *op, const struct cache_policy_dirs *d, struct lk_config *ret);

enum cache_policy_reload {
	POLICY_RELOADED,    /* latchkeyd took the new configuration */
	POLICY_REFUSED,     /* latchkeyd answered ERROR (printed) */
	POLICY_UNREACHABLE, /* no latchkeyd running (warning printed) */
	POLICY_NO_ANSWER,   /* latchkeyd did not answer properly (printed) */
};
/* Ask latchkeyd to re-read the configuration. *ret_exit gets the exit
 * code that goes with REFUSED / NO_ANSWER. */
enum cache_policy_reload cache_policy_reload(const struct ctl *ctl, const char *op, int *ret_exit);

/* <dir>/policy.d/<name>, spelt as the loader spells it (for comparing
 * with lk_cache_policy.source). */
void cache_policy_dropin_path(const char *dir, const char *name, char *out, size_t size);

/* Open <etc>/policy.d (creating <etc> and it, mode 0755, if create): a
 * directory fd, or a negative exit code after printing. */
int cache_policy_open_dropin_dir(const char *op, const char *etc, bool create);

/* One policy as a JSON object, the keys of `policy list --json`. */
struct json_object *cache_policy_to_json(const struct lk_cache_policy *p);

/* "--name", "--mode"... applied to p by the parser's own checks: 0 or a
 * usage error (printed). */
int cache_policy_set_option(const char *op, struct lk_cache_policy *p, const char *key, const char *value);

#endif
