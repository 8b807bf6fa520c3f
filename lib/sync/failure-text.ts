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

/** The words for `err` met while working the buffer at `address`. */
export function bufferFailureText(address: string, err: unknown, tls?: TlsMaterial): string {
  const local = causeOf(err, LocalStoreError);
  if (local) return `${localText(local)} (files stay on ${address})`;
  let text = err instanceof Error ? err.message : String(err);
  // Name the settings to check: the client's reason speaks of the protocol, not the node.
  if (err instanceof TentacleError && err.code === 'ERR_AUTH') {
    text += ` (check ${tls?.cert ? 'syncPassword, and syncCert/syncKey' : 'syncPassword'})`;
  } else if (err instanceof TentacleError && err.serverCertificate && !tls?.ca) {
    text +=
      ": set sync_ca (syncCa) to the CA or self-signed certificate that signed the buffer's certificate";
  }
  return text.startsWith(address) ? text : `${address}: ${text}`;
}
