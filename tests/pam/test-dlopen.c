/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load the built module as libpam does (RTLD_NOW: any unresolved symbol
 * fails here, not at someone's login) and check its ABI: the six pam_sm_*
 * entry points resolve, internal names do not (linux-pam tests/tst-dlopen.c).
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	const char *entry[] = {"pam_sm_authenticate", "pam_sm_setcred",       "pam_sm_acct_mgmt",
	                       "pam_sm_open_session", "pam_sm_close_session", "pam_sm_chauthtok"};
	const char *internal[] = {"lk_pam_do_authenticate", "lk_pam_result", "lk_pam_options_parse",
	                          "lk_client_connect",      "lk_msg_encode", "lk_kdf_derive",
	                          "lk_secret_new"};
	void *h;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE\n", argv[0]);
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	for (size_t i = 0; i < sizeof(entry) / sizeof(entry[0]); i++)
		if (!dlsym(h, entry[i])) {
			fprintf(stderr, "missing entry point %s\n", entry[i]);
			bad = 1;
		}
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
		if (dlsym(h, internal[i])) {
			fprintf(stderr, "internal symbol %s is exported\n", internal[i]);
			bad = 1;
		}
	dlclose(h);
	return bad;
}
