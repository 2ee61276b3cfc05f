-- tldns SRS schema for SQLite (see docs/srs.md).
-- Objects follow EPP: RFC 5731 (domain), RFC 5732 (host), RFC 5910 (DS).
-- Names are stored lower-cased, fully qualified, without the trailing dot.

CREATE TABLE domain (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- No row means EPP status "ok".
CREATE TABLE domain_status (
    domain_id INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,
    status    TEXT NOT NULL,
    PRIMARY KEY (domain_id, status)
) WITHOUT ROWID;

-- hostObj by name, no foreign key: hosts outside the TLD need no host row.
CREATE TABLE domain_ns (
    domain_id INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,
    host_name TEXT NOT NULL,
    PRIMARY KEY (domain_id, host_name)
) WITHOUT ROWID;
CREATE INDEX domain_ns_host_name ON domain_ns(host_name);

CREATE TABLE host (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE host_addr (
    host_id INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    addr    TEXT NOT NULL,
    PRIMARY KEY (host_id, addr)
) WITHOUT ROWID;

CREATE TABLE ds (
    id          INTEGER PRIMARY KEY,
    domain_id   INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,
    key_tag     INTEGER NOT NULL,
    algorithm   INTEGER NOT NULL,
    digest_type INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    UNIQUE (domain_id, key_tag, algorithm, digest_type, digest)
);

-- The change journal. Written only by the triggers below, so every SRS
-- writer journals in its own transaction without knowing about it.
CREATE TABLE journal_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO journal_counter (id, seq) VALUES (1, 0);

CREATE TABLE change_journal (
    seq    INTEGER PRIMARY KEY,
    object TEXT NOT NULL CHECK (object IN ('domain', 'host')),
    name   TEXT NOT NULL,
    at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- domain: journal the domain name.
CREATE TRIGGER domain_journal_insert AFTER INSERT ON domain
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', NEW.name FROM journal_counter c;
END;

CREATE TRIGGER domain_journal_update AFTER UPDATE ON domain
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', NEW.name FROM journal_counter c;
END;

CREATE TRIGGER domain_journal_rename AFTER UPDATE ON domain
    WHEN OLD.name <> NEW.name
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', OLD.name FROM journal_counter c;
END;

CREATE TRIGGER domain_journal_delete AFTER DELETE ON domain
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', OLD.name FROM journal_counter c;
END;

-- host: journal the host name.
CREATE TRIGGER host_journal_insert AFTER INSERT ON host
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', NEW.name FROM journal_counter c;
END;

CREATE TRIGGER host_journal_update AFTER UPDATE ON host
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', NEW.name FROM journal_counter c;
END;

CREATE TRIGGER host_journal_rename AFTER UPDATE ON host
    WHEN OLD.name <> NEW.name
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', OLD.name FROM journal_counter c;
END;

CREATE TRIGGER host_journal_delete AFTER DELETE ON host
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', OLD.name FROM journal_counter c;
END;

-- domain_status: journal the domain name; a cascade from a deleted domain is already journalled.
CREATE TRIGGER domain_status_journal_insert AFTER INSERT ON domain_status
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER domain_status_journal_update AFTER UPDATE ON domain_status
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER domain_status_journal_move AFTER UPDATE ON domain_status
    WHEN OLD.domain_id <> NEW.domain_id AND EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

CREATE TRIGGER domain_status_journal_delete AFTER DELETE ON domain_status
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

-- domain_ns: journal the domain name; a cascade from a deleted domain is already journalled.
CREATE TRIGGER domain_ns_journal_insert AFTER INSERT ON domain_ns
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER domain_ns_journal_update AFTER UPDATE ON domain_ns
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER domain_ns_journal_move AFTER UPDATE ON domain_ns
    WHEN OLD.domain_id <> NEW.domain_id AND EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

CREATE TRIGGER domain_ns_journal_delete AFTER DELETE ON domain_ns
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

-- ds: journal the domain name; a cascade from a deleted domain is already journalled.
CREATE TRIGGER ds_journal_insert AFTER INSERT ON ds
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER ds_journal_update AFTER UPDATE ON ds
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = NEW.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = NEW.domain_id;
END;

CREATE TRIGGER ds_journal_move AFTER UPDATE ON ds
    WHEN OLD.domain_id <> NEW.domain_id AND EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

CREATE TRIGGER ds_journal_delete AFTER DELETE ON ds
    WHEN EXISTS (SELECT 1 FROM domain WHERE id = OLD.domain_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'domain', p.name FROM journal_counter c JOIN domain p ON p.id = OLD.domain_id;
END;

-- host_addr: journal the host name; a cascade from a deleted host is already journalled.
CREATE TRIGGER host_addr_journal_insert AFTER INSERT ON host_addr
    WHEN EXISTS (SELECT 1 FROM host WHERE id = NEW.host_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', p.name FROM journal_counter c JOIN host p ON p.id = NEW.host_id;
END;

CREATE TRIGGER host_addr_journal_update AFTER UPDATE ON host_addr
    WHEN EXISTS (SELECT 1 FROM host WHERE id = NEW.host_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', p.name FROM journal_counter c JOIN host p ON p.id = NEW.host_id;
END;

CREATE TRIGGER host_addr_journal_move AFTER UPDATE ON host_addr
    WHEN OLD.host_id <> NEW.host_id AND EXISTS (SELECT 1 FROM host WHERE id = OLD.host_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', p.name FROM journal_counter c JOIN host p ON p.id = OLD.host_id;
END;

CREATE TRIGGER host_addr_journal_delete AFTER DELETE ON host_addr
    WHEN EXISTS (SELECT 1 FROM host WHERE id = OLD.host_id)
BEGIN
    UPDATE journal_counter SET seq = seq + 1;
    INSERT INTO change_journal (seq, object, name)
        SELECT c.seq, 'host', p.name FROM journal_counter c JOIN host p ON p.id = OLD.host_id;
END;
