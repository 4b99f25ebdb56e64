import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildCSR, generateKeyPair } from '../csr.js';
import { toHex } from '../der.js';
import {
  API_ERRORS, NETWORK_ERROR, UNKNOWN_ERROR, errorKey, fileName, filePasswordProblem, fill, formatDateTime,
  issuingCertificates,
} from '../issue.js';
import { buildPKCS12 } from '../pkcs12.js';
import { certificateDER, makeCA, openssl, signCSR, tempDir } from './helpers.mjs';

// catalogue reads the page's messages of a language as the server merges
// them: messages/<lang>.json and the parts the issuance and renewal pages
// use, messages/<lang>-issue.json and <lang>-renewal.json.
function catalogue(lang) {
  const dir = new URL('../../../../messages/', import.meta.url);
  const out = {};
  for (const name of [`${lang}.json`, `${lang}-issue.json`, `${lang}-renewal.json`]) {
    Object.assign(out, JSON.parse(readFileSync(new URL(name, dir), 'utf8')));
  }
  return out;
}

test('errorKey', async (t) => {
  const cases = [
    ['invalid_credentials', 'page.issue.error.invalid_credentials'],
    ['account_locked', 'page.issue.error.account_locked'],
    ['too_many_attempts', 'page.issue.error.too_many_attempts'],
    ['certificate_login_not_enabled', 'page.issue.error.certificate_login_not_enabled'],
    ['active_certificate_exists', 'page.issue.error.active_certificate_exists'],
    ['organization_certificate_limit', 'page.issue.error.organization_certificate_limit'],
    ['invalid_csr', 'page.issue.error.browser'],
    ['unsupported_key', 'page.issue.error.browser'],
    ['unsupported_media_type', 'page.issue.error.reload'],
    ['cross_origin', 'page.issue.error.reload'],
    ['renewal_not_due', 'page.renew.error.not_due'],
    ['renewal_in_progress', 'page.renew.error.in_progress'],
    ['certificate_revoked', 'page.renew.error.session'],
    ['unauthenticated', 'page.renew.error.session'],
    ['internal_error', UNKNOWN_ERROR],
    ['something new', UNKNOWN_ERROR],
    ['toString', UNKNOWN_ERROR], // not an inherited property
    [undefined, UNKNOWN_ERROR], // no JSON body
    [42, UNKNOWN_ERROR],
  ];
  for (const [code, want] of cases) {
    await t.test(String(code), () => assert.equal(errorKey(code), want));
  }
});

test('every message key of the mapping is in both catalogues', () => {
  const keys = new Set([...Object.values(API_ERRORS), UNKNOWN_ERROR, NETWORK_ERROR]);
  for (const lang of ['ja', 'en']) {
    const cat = catalogue(lang);
    for (const key of keys) assert.ok(cat[key], `${lang}: no message ${key}`);
  }
});

test('filePasswordProblem', async (t) => {
  const cases = [
    ['8 characters, repeated', 'Kinko-01', 'Kinko-01', ''],
    ['long with symbols', 'a!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~z', 'a!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~z', ''],
    ['7 characters', 'Kinko-0', 'Kinko-0', 'page.issue.error.file_password_short'],
    ['empty', '', '', 'page.issue.error.file_password_short'],
    ['short and different: short first', 'abc', 'abd', 'page.issue.error.file_password_short'],
    ['a space', 'kinko file', 'kinko file', 'page.issue.error.file_password_chars'],
    ['full-width letters from the IME', 'ｋｉｎｋｏ１２３４', 'ｋｉｎｋｏ１２３４', 'page.issue.error.file_password_chars'],
    ['Japanese', 'きんこのパスワード', 'きんこのパスワード', 'page.issue.error.file_password_chars'],
    ['repetition differs', 'Kinko-01', 'Kinko-02', 'page.issue.error.file_password_mismatch'],
    ['repetition empty', 'Kinko-01', '', 'page.issue.error.file_password_mismatch'],
  ];
  for (const [name, password, again, want] of cases) {
    await t.test(name, () => assert.equal(filePasswordProblem(password, again), want));
  }
});

test('fileName', async (t) => {
  const cases = [
    ['tanaka01', 'tanaka01.p12'],
    ['Sato0001', 'Sato0001.p12'],
    ['../etc/passwd', '_etc_passwd.p12'],
    ['田中', '__.p12'],
    ['...', 'certificate.p12'],
  ];
  for (const [loginID, want] of cases) {
    await t.test(loginID, () => assert.equal(fileName(loginID), want));
  }
});

test('fill', async (t) => {
  const cases = [
    ['one', 'saved {0}.', ['a.p12'], 'saved a.p12.'],
    ['two, out of order, repeated', '{1} {0} {1}', ['x', 'y'], 'y x y'],
    ['missing argument stays', 'until {0}', [], 'until {0}'],
    ['no placeholder', 'plain', ['x'], 'plain'],
  ];
  for (const [name, text, args, want] of cases) {
    await t.test(name, () => assert.equal(fill(text, ...args), want));
  }
});

// formatDateTime must show a time as the server's pages do (Go's layout of
// format.datetime, in Japan's time), so the issued certificate's expiry
// reads the same here as on the certificate page.
test('formatDateTime with the catalogue layouts', async (t) => {
  const ja = catalogue('ja')['format.datetime'];
  const en = catalogue('en')['format.datetime'];
  const cases = [
    ['ja', ja, '2027-11-25T03:10:52Z', '2027年11月25日 12時10分'],
    ['en', en, '2027-11-25T03:10:52Z', '25 Nov 2027, 12:10 JST'],
    ['ja, the next day and year in Japan', ja, '2027-12-31T15:05:00Z', '2028年1月1日 00時05分'],
    ['en, the next day and year in Japan', en, '2027-12-31T15:05:00Z', '1 Jan 2028, 00:05 JST'],
    ['not a time', en, 'soon', 'soon'],
  ];
  for (const [name, layout, iso, want] of cases) {
    await t.test(name, () => assert.equal(formatDateTime(iso, layout), want));
  }
});

// makeIntermediate makes a CA certificate issued by root, as kinko's
// client-issuing CA is, and returns its key and certificate paths.
function makeIntermediate(dir, root) {
  const key = join(dir, 'issuing.key');
  const csr = join(dir, 'issuing.csr');
  const cert = join(dir, 'issuing.pem');
  const ext = join(dir, 'issuing.ext');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
    '-out', csr, '-subj', '/O=kinko test/CN=test client-issuing CA']);
  writeFileSync(ext, 'basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n');
  openssl(['x509', '-req', '-in', csr, '-CA', root.cert, '-CAkey', root.key, '-set_serial', '7', '-days', '2',
    '-extfile', ext, '-out', cert]);
  return { key, cert };
}

test('issuingCertificates leaves out the root', async (t) => {
  const dir = tempDir(t);
  const root = makeCA(dir);
  const issuing = makeIntermediate(dir, root);
  const rootPEM = readFileSync(root.cert, 'utf8');
  const issuingPEM = readFileSync(issuing.cert, 'utf8');
  const issuingDER = toHex(certificateDER(dir, issuing.cert));
  const v1PEM = readFileSync(signCSR(dir, issuing, await buildCSR(await generateKeyPair(), 'v1'), 'v1', { v1: true }), 'utf8');
  const v1DER = toHex(certificateDER(dir, join(dir, 'v1.pem')));
  const cases = [
    ['issuing CA and root, as kinko sends them', issuingPEM + rootPEM, [issuingDER]],
    ['root first', rootPEM + issuingPEM, [issuingDER]],
    ['root only', rootPEM, []],
    ['X.509 v1 certificate (no version field)', v1PEM + rootPEM, [v1DER]],
    ['nothing', '', []],
  ];
  for (const [name, chain, want] of cases) {
    await t.test(name, () => assert.deepEqual(issuingCertificates(chain).map(toHex), want));
  }
});

// The file the page saves: the user's certificate and key with the issuing
// CA, no root, and OpenSSL reads it with the file password.
test('the saved file holds the certificate, the key and the issuing CA', async (t) => {
  const dir = tempDir(t);
  const root = makeCA(dir);
  const issuing = makeIntermediate(dir, root);
  const keyPair = await generateKeyPair();
  const leaf = signCSR(dir, issuing, await buildCSR(keyPair, 'tanaka01'), 'tanaka01');
  const chain = readFileSync(issuing.cert, 'utf8') + readFileSync(root.cert, 'utf8');
  const password = 'Kinko-File-1';
  assert.equal(filePasswordProblem(password, password), '');
  const p12 = await buildPKCS12({
    privateKey: keyPair.privateKey, certificateDER: certificateDER(dir, leaf), chainDER: issuingCertificates(chain),
    password, friendlyName: 'kinko tanaka01',
  });
  const file = join(dir, fileName('tanaka01'));
  writeFileSync(file, p12);
  const certs = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nokeys']);
  const subjects = certs.split('\n').filter((l) => l.startsWith('subject=')).map((l) => l.replace(/\s+/g, ''));
  assert.deepEqual(subjects, ['subject=CN=tanaka01', 'subject=O=kinkotest,CN=testclient-issuingCA']);
  const key = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nocerts', '-nodes']);
  assert.match(key, /-----BEGIN PRIVATE KEY-----/);
  assert.match(certs, /friendlyName: kinko tanaka01/);
});
