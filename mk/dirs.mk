# SPDX-License-Identifier: BSD-2-Clause
# Installation directories (FHS). PREFIX moves programs and man pages;
# configuration and state stay in /etc/sendgate and /var/lib/sendgate
# unless SYSCONFDIR / LOCALSTATEDIR say otherwise (as Postfix does).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sendgate
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
RUNSTATEDIR ?= /run
SG_CONFDIR := $(SYSCONFDIR)/sendgate
SG_STATEDIR := $(LOCALSTATEDIR)/lib/sendgate
SG_RUNDIR := $(RUNSTATEDIR)/sendgate
# handed to scripts/install-tree on its command line only: exported, they
# would leak into every recipe (the tests build the Debian package with
# PREFIX=/usr, and an inherited SBINDIR=/usr/local/sbin would win)
SG_DIRS_ENV = PREFIX="$(PREFIX)" SBINDIR="$(SBINDIR)" BINDIR="$(BINDIR)" MANDIR="$(MANDIR)" \
	DOCDIR="$(DOCDIR)" SYSCONFDIR="$(SYSCONFDIR)" LOCALSTATEDIR="$(LOCALSTATEDIR)" \
	RUNSTATEDIR="$(RUNSTATEDIR)" SG_CONFDIR="$(SG_CONFDIR)" SG_STATEDIR="$(SG_STATEDIR)" \
	SG_RUNDIR="$(SG_RUNDIR)"
