// Test helpers: the openssl command line, temporary directories, PEM files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { toPEM } from '../der.js';

// run runs a command and returns {status, stdout, stderr} (text), never
// throwing on a non-zero exit.
export function run(command, args, { input, cwd } = {}) {
  const r = spawnSync(command, args, { input, cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// openssl runs openssl and returns its stdout, failing with its output
// when it exits non-zero.
export function openssl(args, options) {
  const r = run('openssl', args, options);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// tempDir makes a directory that is removed when the test ends.
export function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'kinko-js-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// writePrivateKey writes the CryptoKey as a PKCS#8 PEM file and returns
// the path.
export async function writePrivateKey(dir, name, key) {
  const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', key));
  const path = join(dir, name);
  writeFileSync(path, toPEM('PRIVATE KEY', der));
  return path;
}

// makeCA makes a self-signed P-256 test CA with openssl in dir and returns
// the paths of its key and certificate.
export function makeCA(dir) {
  const key = join(dir, 'ca.key');
  const cert = join(dir, 'ca.pem');
  openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-subj', '/O=kinko test/CN=test CA', '-days', '2']);
  return { key, cert };
}

// signCSR has the test CA sign the PEM CSR and returns the certificate's
// path, with the subject the CSR asked for. The certificate is X.509 v3
// with a client certificate's extensions, as kinko issues them, unless v1
// is asked for.
export function signCSR(dir, ca, csrPEM, name = 'leaf', { v1 = false } = {}) {
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(csr, csrPEM);
  writeFileSync(ext, 'keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n');
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', '1000', '-days', '1',
    ...(v1 ? [] : ['-extfile', ext]), '-out', cert]);
  return cert;
}

// certificateDER returns the DER bytes of a PEM certificate file.
export function certificateDER(dir, pemPath) {
  const out = join(dir, 'tmp.der');
  openssl(['x509', '-in', pemPath, '-outform', 'DER', '-out', out]);
  return readBytes(out);
}

export function readBytes(path) {
  return new Uint8Array(readFileSync(path));
}
