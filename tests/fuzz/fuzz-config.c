/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration parser: any bytes, as latchkey.conf and as a drop-in. */
#include <string.h>

#include "fuzz.h"
#include "config/config.h"

static void check_policy(const struct lk_cache_policy *p)
{
	struct lk_config_error e;
	struct lk_config again;
	char text[4096], dir[256];
	int n;

	/* Whatever the parser accepts, the format writes and the parser reads
	 * back to the same policy. */
	n = lk_cache_policy_format(p, text, sizeof(text));
	FUZZ_CHECK(n > 0);
	lk_config_init(&again);
	FUZZ_CHECK(lk_config_parse_buffer(&again, text, (size_t)n, p->source, LK_CONFIG_DROPIN, &e) == 0);
	FUZZ_CHECK(again.n_cache_policies == 1);
	FUZZ_CHECK(strcmp(again.cache_policies[0].name, p->name) == 0);
	FUZZ_CHECK(strcmp(again.cache_policies[0].root, p->root) == 0);
	FUZZ_CHECK(strcmp(again.cache_policies[0].subdir, p->subdir) == 0);
	FUZZ_CHECK(again.cache_policies[0].mode == p->mode && again.cache_policies[0].flags == p->flags);
	FUZZ_CHECK(again.cache_policies[0].contents_mode == p->contents_mode);
	FUZZ_CHECK(again.cache_policies[0].filenames_mode == p->filenames_mode);
	FUZZ_CHECK(again.cache_policies[0].lock_on_logout == p->lock_on_logout);
	lk_config_free(&again);

	/* An accepted template always gives one plain name for a valid user. */
	FUZZ_CHECK(lk_cache_policy_subdir(p, "abcdefghijklmnopqrstuvwxyz01234$", 4294967294u, dir,
	                                  sizeof(dir)) == 0);
	FUZZ_CHECK(strchr(dir, '/') == NULL && strcmp(dir, ".") != 0 && strcmp(dir, "..") != 0);
	FUZZ_CHECK(p->mode <= 0777 && !(p->mode & 022));
	FUZZ_CHECK(p->root[0] == '/' && !strstr(p->root, "//"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum lk_config_file_kind kinds[] = {LK_CONFIG_MAIN, LK_CONFIG_DROPIN};
	struct lk_config_error e;
	struct lk_config c;
	char msg[2048];

	if (size > LK_FUZZ_MAX_INPUT)
		return 0;
	for (size_t k = 0; k < 2; k++) {
		lk_config_init(&c);
		memset(&e, 0, sizeof(e));
		if (lk_config_parse_buffer(&c, (const char *)data, size, "fuzz.conf", kinds[k], &e) < 0 ||
		    lk_config_finish(&c, &e) < 0) {
			/* Every error says something, on one line. */
			lk_config_error_format(&e, msg, sizeof(msg));
			FUZZ_CHECK(e.message[0] != '\0');
			for (const char *p = msg; *p; p++)
				FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		} else {
			for (unsigned i = 0; i < c.n_cache_policies; i++)
				check_policy(&c.cache_policies[i]);
			(void)lk_config_lock_on_logout(&c, "alice",
			                               c.n_cache_policies ? &c.cache_policies[0] : NULL);
		}
		lk_config_free(&c);
	}
	return 0;
}
