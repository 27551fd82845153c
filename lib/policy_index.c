/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stub: to be implemented */
