/**
 * The words of a buffer's failure in its round summary (`msg.payload.error` of the node's second
 * output, and `PushResult.error`): the connection's or the system's own words, the buffer's
 * address first, and which setting to check. Kept as one sentence because the summary is part of
 * the node's output contract; the node words its own errors from its catalogue.
 */
import { TentacleError } from '../tentacle/errors';
import type { TlsMaterial } from '../tls/material';
import { causeOf } from '../util/errors';
import { LocalStoreError } from './errors';

function localText(e: LocalStoreError): string {
  const { message } = e.facts;
  if (e.what === 'dir') return `incoming directory ${e.path} is not usable: ${message}`;
  if (e.what === 'write') return `cannot write ${e.path}: ${message}`;
  return `cannot deliver ${e.facts.name} into ${e.path}: ${message}`;
}

/**
 * A Tentacle failure in the summary's words (the client's errors carry a code and facts only; the
 * same facts the tentacle-buffer catalogue words for the node's own errors).
 */
function tentacleText(e: TentacleError): string {
  const f = e.facts;
  const said = f.message ? `: ${f.message}` : '';
  switch (e.code) {
    case 'ERR_REPLY':
      return `${f.command ?? 'request'} refused: the server answered "${f.reply ?? ''}"`;
    case 'ERR_CLOSED':
      return `connection closed${said}`;
    case 'ERR_TIMEOUT':
      return `no activity for ${f.seconds ?? '?'} s`;
    case 'ERR_TLS':
      return `TLS${said}`;
    case 'ERR_AUTH':
      return `the server hung up right after PASS (${f.credentials ?? 'password'} refused)`;
    case 'ERR_PROTOCOL':
      return `the server broke the protocol${f.reply ? ` ("${f.reply}")` : said}`;
    case 'ERR_CONNECT':
      return `cannot connect${said}`;
    case 'ERR_TOO_BIG':
      return `${f.command ?? ''} ${f.name ?? ''} is larger than the limit of ${f.limit ?? '?'} bytes`.trim();
    default:
      return `${e.code}${said}`;
  }
}

/** The words for `err` met while working the buffer at `address`. */
export function bufferFailureText(address: string, err: unknown, tls?: TlsMaterial): string {
  const local = causeOf(err, LocalStoreError);
  if (local) return `${localText(local)} (files stay on ${address})`;
  let text =
    err instanceof TentacleError
      ? tentacleText(err)
      : err instanceof Error
        ? err.message
        : String(err);
  // Name the settings to check: the client's reason speaks of the protocol, not the node.
  if (err instanceof TentacleError && err.code === 'ERR_AUTH') {
    text += ` (check ${tls?.cert ? 'syncPassword, and syncCert/syncKey' : 'syncPassword'})`;
  } else if (err instanceof TentacleError && err.serverCertificate && !tls?.ca) {
    text +=
      ": set sync_ca (syncCa) to the CA or self-signed certificate that signed the buffer's certificate";
  }
  return text.startsWith(address) ? text : `${address}: ${text}`;
}
