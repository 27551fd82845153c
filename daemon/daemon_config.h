/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin's configuration in the daemon (d->config): loading and
 * reloading only. */
#ifndef LKD_DAEMON_CONFIG_H
#define LKD_DAEMON_CONFIG_H

#include <stddef.h>

struct daemon;

/* Load at start; a bad configuration is logged and the defaults are used. */
void daemon_config_setup(struct daemon *d);
void daemon_config_free(struct daemon *d);
/* Reload; on error the old config stays and err_text gets "file:line: message". */
int daemon_config_reload(struct daemon *d, char *err_text, size_t size);

#endif
