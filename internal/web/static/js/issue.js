// issue.js: the certificate issuance page (電子証明書発行, /issue) and the
// renewal page (電子証明書更新, /renew). On /issue the user enters login ID
// and login password; the page makes an ECDSA P-256 key pair with
// WebCrypto, sends the certificate signing request with them to
// POST /api/v1/certificates, asks for a password for the file, builds the
// PKCS#12 file in the page and saves it as <login ID>.p12. On /renew (a
// form with data-mode="renewal", in a certificate-login session) there are
// no fields: the request goes with the session to
// POST /api/v1/certificates/renewal, and the rest is the same. The private
// key never leaves the page: only the CSR is sent.
//
// The page's messages, in its language, come from the page itself: a
// <template id="issue-messages"> holds one element per catalogue key
// (data-key). Without WebCrypto (a page not served over HTTPS) the form
// stays disabled and the page says why.
//
// Pure helpers, exported for the unit tests (and run in Node):
//   errorKey(code)                     the catalogue key of the message for
//                                      an error code of the API
//   filePasswordProblem(pw, again)     the catalogue key of what is wrong
//                                      with a file password, '' if nothing
//   issuingCertificates(chainPEM)      the DER certificates of a PEM chain
//                                      without the self-signed ones (roots)
//   fileName(loginID)                  the name of the saved file
//   fill(text, ...args)                text with {0}, {1}, ... replaced
//   formatDateTime(iso, layout)        a time in Japan's time, laid out as
//                                      the catalogue's format.datetime (a Go
//                                      layout: 2006 Jan 1 2 15 04 MST only)

import { buildCSR, generateKeyPair } from './csr.js';
import { decode, fromPEM } from './der.js';
import { buildPKCS12 } from './pkcs12.js';

// API_ERRORS maps the API's error codes (docs/api.md) to the catalogue
// keys of messages that say, in a clerk's words, what happened and what
// to do. Any other code shows page.issue.error.unknown.
export const API_ERRORS = Object.freeze({
  invalid_credentials: 'page.issue.error.invalid_credentials',
  account_locked: 'page.issue.error.account_locked',
  too_many_attempts: 'page.issue.error.too_many_attempts',
  certificate_login_not_enabled: 'page.issue.error.certificate_login_not_enabled',
  active_certificate_exists: 'page.issue.error.active_certificate_exists',
  organization_certificate_limit: 'page.issue.error.organization_certificate_limit',
  // Renewal (in a certificate-login session).
  renewal_not_due: 'page.renew.error.not_due',
  renewal_in_progress: 'page.renew.error.in_progress',
  unauthenticated: 'page.renew.error.session',
  certificate_revoked: 'page.renew.error.session',
  certificate_expired: 'page.renew.error.session',
  // The browser made a request the bank cannot use.
  invalid_csr: 'page.issue.error.browser',
  unsupported_key: 'page.issue.error.browser',
  // The page itself is stale or broken: reloading helps.
  invalid_request: 'page.issue.error.reload',
  unsupported_media_type: 'page.issue.error.reload',
  request_too_large: 'page.issue.error.reload',
  cross_origin: 'page.issue.error.reload',
});

export const UNKNOWN_ERROR = 'page.issue.error.unknown';
export const NETWORK_ERROR = 'page.issue.error.network';

export function errorKey(code) {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code) ? API_ERRORS[code] : UNKNOWN_ERROR;
}

// MIN_FILE_PASSWORD is the shortest file password accepted.
export const MIN_FILE_PASSWORD = 8;

// The file password is limited to printable ASCII without the space: the
// PKCS#12 file encrypts with the password as UTF-8 and computes its MAC
// over it as UTF-16, and systems disagree on how they convert other
// characters (a full-width character typed with the IME could make a file
// that Windows or macOS refuses to open). In ASCII all of them agree.
const FILE_PASSWORD_CHARS = /^[\x21-\x7e]*$/;

export function filePasswordProblem(password, again) {
  if (password.length < MIN_FILE_PASSWORD) return 'page.issue.error.file_password_short';
  if (!FILE_PASSWORD_CHARS.test(password)) return 'page.issue.error.file_password_chars';
  if (password !== again) return 'page.issue.error.file_password_mismatch';
  return '';
}

// issuingCertificates returns the CA certificates that go into the file
// with the user's certificate: the issuing CA, not the root. Windows,
// importing a file that holds a self-signed root with "automatically
// select the certificate store", puts the root into the user's Trusted
// Root Certification Authorities and stops the import with a security
// warning that asks the clerk to trust it, which we must not teach anyone
// to accept; nothing in the file is needed for trust anyway (the server
// verifies the client certificate against its own copy of the issuing
// CA, and the browser trusts the bank's server by other means). The
// issuing CA is harmless (Windows files it under Intermediate
// Certification Authorities without asking) and lets the system build the
// path to the CA that the certificate portal names when it asks for a
// certificate.
export function issuingCertificates(chainPEM) {
  return fromPEM(chainPEM, 'CERTIFICATE').filter((der) => !selfSigned(der));
}

// selfSigned reports whether a certificate's issuer and subject are the
// same name, byte for byte.
function selfSigned(der) {
  const tbs = decode(der).children[0].children;
  const i = tbs[0].tag === 0xa0 ? 1 : 0; // [0] version, present in v3
  const issuer = tbs[i + 2].content; // both Names are SEQUENCEs
  const subject = tbs[i + 4].content;
  return issuer.length === subject.length && issuer.every((b, k) => b === subject[k]);
}

// fileName is the name of the saved file: the login ID (letters and
// digits) with anything else replaced, so that it is a valid file name on
// every system.
export function fileName(loginID) {
  const base = loginID.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'certificate';
  return `${base}.p12`;
}

export function fill(text, ...args) {
  return text.replace(/\{(\d+)\}/g, (m, i) => (i < args.length ? String(args[i]) : m));
}

// JAPAN_OFFSET is Japan's time zone (no daylight saving time): the pages
// show every time in Japan's time, as the server does.
const JAPAN_OFFSET = 9 * 60 * 60 * 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatDateTime(iso, layout) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const t = new Date(date.getTime() + JAPAN_OFFSET); // read with getUTC*
  const two = (n) => String(n).padStart(2, '0');
  const values = {
    2006: String(t.getUTCFullYear()),
    Jan: MONTHS[t.getUTCMonth()],
    MST: 'JST',
    15: two(t.getUTCHours()),
    '04': two(t.getUTCMinutes()),
    1: String(t.getUTCMonth() + 1),
    2: String(t.getUTCDate()),
  };
  return layout.replace(/2006|Jan|MST|15|04|1|2/g, (token) => values[token]);
}

// The page: nothing below runs outside a browser.

class IssuePage {
  constructor(doc) {
    this.doc = doc;
    this.messages = new Map();
    const tmpl = doc.getElementById('issue-messages');
    for (const el of tmpl ? tmpl.content.querySelectorAll('[data-key]') : []) {
      this.messages.set(el.dataset.key, el.textContent.trim());
    }
    const $ = (id) => doc.getElementById(id);
    this.error = $('issue-error');
    this.issueStep = $('issue-step');
    this.issueForm = $('issue-form');
    this.loginID = $('login_id');
    this.password = $('password');
    this.issueSubmit = $('issue-submit');
    this.issueProgress = $('issue-progress');
    this.p12Step = $('p12-step');
    this.p12Form = $('p12-form');
    this.p12Password = $('p12-password');
    this.p12Again = $('p12-password-confirm');
    this.p12Progress = $('p12-progress');
    this.issued = $('issue-issued');
    this.done = $('issue-done');
    this.saved = $('issue-saved');

    // renewal: the renewal page, whose form has no fields.
    this.renewal = this.issueForm.dataset.mode === 'renewal';
    this.keyPair = null; // the key pair, once the certificate is issued
    this.certificateDER = null;
    this.chainDER = [];
    this.name = '';
    this.friendlyName = '';
    this.savedOnce = false;
    this.busy = false;
  }

  // text returns the message for key, with args filled in.
  text(key, ...args) {
    return fill(this.messages.get(key) ?? key, ...args);
  }

  start() {
    if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
      this.showError('page.issue.error.no_webcrypto', this.issueStep, { focus: false });
      return;
    }
    this.issueForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.issue();
    });
    this.p12Form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    // Leaving the page before the file is saved loses the key, and the
    // certificate would have to be revoked: ask the browser to confirm.
    globalThis.addEventListener('beforeunload', (e) => {
      if (this.keyPair && !this.savedOnce) {
        e.preventDefault();
        e.returnValue = '';
      }
    });
    this.issueSubmit.disabled = false;
  }

  // showError shows the message of key in the error box, at the top of
  // step, marks the fields as invalid and moves the focus to the first of
  // them, or to the message when there is none (unless focus is false).
  showError(key, step, { fields = [], focus = true } = {}) {
    this.error.textContent = this.text(key);
    const anchor = step.querySelector('form') ?? step.lastElementChild;
    if (this.error.nextElementSibling !== anchor) anchor.before(this.error);
    this.error.hidden = false;
    for (const f of [...this.issueForm.elements, ...this.p12Form.elements]) f.removeAttribute('aria-invalid');
    for (const f of fields) f.setAttribute('aria-invalid', 'true');
    if (!focus) return;
    if (fields.length > 0) fields[0].focus();
    else this.error.focus();
  }

  clearError() {
    this.error.hidden = true;
    this.error.textContent = '';
  }

  setBusy(form, progress, key) {
    this.busy = key !== '';
    form.setAttribute('aria-busy', String(this.busy));
    for (const el of form.elements) el.disabled = this.busy;
    progress.textContent = key ? this.text(key) : '';
  }

  async issue() {
    if (this.busy || this.keyPair) return;
    this.clearError();
    const loginID = this.renewal ? this.issueForm.dataset.loginId : this.loginID.value.trim();
    const password = this.renewal ? '' : this.password.value;
    if (!this.renewal && (loginID === '' || password === '')) {
      const empty = [this.loginID, this.password].filter((f) => f.value.trim() === '');
      this.showError('page.issue.error.required', this.issueStep, { fields: empty });
      return;
    }
    this.setBusy(this.issueForm, this.issueProgress, 'page.issue.progress.key');
    let keyPair;
    let csr;
    try {
      keyPair = await generateKeyPair();
      csr = await buildCSR(keyPair, loginID);
    } catch (err) {
      console.error(err);
      this.setBusy(this.issueForm, this.issueProgress, '');
      this.showError('page.issue.error.key_failed', this.issueStep);
      return;
    }
    this.issueProgress.textContent = this.text('page.issue.progress.request');
    const answer = this.renewal
      ? await requestCertificate('/api/v1/certificates/renewal', { csr })
      : await requestCertificate('/api/v1/certificates', { login_id: loginID, password, csr });
    this.setBusy(this.issueForm, this.issueProgress, '');
    if (answer.errorKey) {
      const fields = !this.renewal && answer.errorKey === API_ERRORS.invalid_credentials ? [this.password] : [];
      this.showError(answer.errorKey, this.issueStep, { fields });
      if (fields.length > 0) this.password.select();
      return;
    }

    this.keyPair = keyPair;
    this.certificateDER = answer.certificateDER;
    this.chainDER = answer.chainDER;
    this.name = fileName(loginID);
    this.friendlyName = `kinko ${loginID}`;
    // The form has done its work (a second certificate cannot be issued
    // while this one is valid): it goes, and its place says what happened.
    if (this.password) this.password.value = '';
    for (const el of this.issueForm.elements) el.disabled = true;
    this.issueForm.hidden = true;
    this.issueProgress.textContent = this.text('page.issue.progress.next', loginID);
    const notAfter = formatDateTime(answer.notAfter, this.text('format.datetime'));
    this.issued.textContent = this.text(this.renewal ? 'page.renew.progress.issued' : 'page.issue.progress.issued', notAfter);
    this.p12Step.hidden = false;
    this.doc.getElementById('p12-heading').focus();
  }

  async save() {
    if (this.busy || !this.keyPair) return;
    this.clearError();
    const password = this.p12Password.value;
    const problem = filePasswordProblem(password, this.p12Again.value);
    if (problem) {
      const field = problem === 'page.issue.error.file_password_mismatch' ? this.p12Again : this.p12Password;
      this.showError(problem, this.p12Step, { fields: [field] });
      return;
    }
    this.setBusy(this.p12Form, this.p12Progress, 'page.issue.progress.file');
    let file;
    try {
      file = await buildPKCS12({
        privateKey: this.keyPair.privateKey,
        certificateDER: this.certificateDER,
        chainDER: this.chainDER,
        password,
        friendlyName: this.friendlyName,
      });
    } catch (err) {
      console.error(err);
      this.setBusy(this.p12Form, this.p12Progress, '');
      this.showError('page.issue.error.file_failed', this.p12Step);
      return;
    }
    this.download(file);
    this.setBusy(this.p12Form, this.p12Progress, '');
    this.p12Password.value = '';
    this.p12Again.value = '';
    this.savedOnce = true;
    this.saved.textContent = this.text('page.issue.progress.saved', this.name);
    const first = this.done.hidden;
    this.done.hidden = false;
    if (first) this.doc.getElementById('done-heading').focus();
  }

  // download saves bytes as the file this.name, through a link to a Blob.
  download(bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/x-pkcs12' }));
    const a = this.doc.createElement('a');
    a.href = url;
    a.download = this.name;
    a.hidden = true;
    this.doc.body.append(a);
    a.click();
    a.remove();
    // Give the browser time to start the download before the URL goes.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

// requestCertificate sends the request (the CSR, with the login ID and
// password for an issuance) to the API at path and returns
// {certificateDER, chainDER, notAfter}, or {errorKey} with the catalogue
// key of what went wrong.
async function requestCertificate(path, request) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
      credentials: 'same-origin',
      cache: 'no-store',
      // A request that hangs ends as a network error instead of a page
      // that waits for ever.
      signal: AbortSignal.timeout?.(120_000),
    });
  } catch (err) {
    console.error(err);
    return { errorKey: NETWORK_ERROR };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page): unknown below.
  }
  if (response.status !== 201) return { errorKey: errorKey(body?.error) };
  try {
    const [certificateDER] = fromPEM(body.certificate, 'CERTIFICATE');
    if (!certificateDER) throw new Error('issue: no certificate in the answer');
    return { certificateDER, chainDER: issuingCertificates(body.chain ?? ''), notAfter: body.not_after };
  } catch (err) {
    console.error(err);
    return { errorKey: UNKNOWN_ERROR };
  }
}

if (globalThis.document?.getElementById('issue-form')) {
  new IssuePage(globalThis.document).start();
}
