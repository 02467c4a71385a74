# ---- install ----------------------------------------------------------------
#   make install [PREFIX=/usr/local] [DESTDIR=]
# installs bin/healer and bin/healerc into $(DESTDIR)$(PREFIX)/bin and the
# man pages healer(1), healerc(1) and healer-rules(5) (docs/man/) under
# $(DESTDIR)$(PREFIX)/share/man. Builds first if needed.
PREFIX  ?= /usr/local
DESTDIR ?=
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install
MAN1    := docs/man/healer.1 docs/man/healerc.1
MAN5    := docs/man/healer-rules.5

.PHONY: install
install: $(BIN)/healer $(BIN)/healerc
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 0755 $(BIN)/healer $(BIN)/healerc $(DESTDIR)$(PREFIX)/bin/
	$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
