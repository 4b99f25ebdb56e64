-- A refused form of the customer portal, kept for its one display after
-- the redirect that follows it (Post/Redirect/Get), or the values typed in
-- a form whose language was switched: the page's errors and what was typed,
-- never a password nor the form token. It is keyed by the hash of a
-- short-lived cookie's value and the path of the page that shows it, is
-- read once (deleted as it is read), and expires after minutes; any server
-- of the bank can show it.
CREATE TABLE kept_forms (
    key_hash   TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    page       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key_hash, path)
);
CREATE INDEX kept_forms_expires ON kept_forms (expires_at);
