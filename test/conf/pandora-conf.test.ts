import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  parsePandoraConf,
  parseSyncAddress,
  readPandoraConf,
  readPandoraConfSync,
  resolvePandoraSettings,
} from '../../lib/conf';

// Shaped like the stock pandora_server.conf.new: comments, tabs, commented-out examples,
// repeated tokens, tokens pandora-config does not know.
const REALISTIC = `#############################################################################
# Pandora FMS Server Parameters
# Pandora FMS, the Flexible Monitoring System.
# Version 7.0NG.775
#############################################################################

# Servername: Name of this server
# if not given, it takes hostname. It's preferable to setup one
# because machine name could change by some reason.

#servername greystone
servername\tcentral-01

# incomingdir: It defines directory where incoming data packets are stored
# You could set directory relative to base path or absolute, starting with /

incomingdir /var/spool/pandora/data_in

# log_file: Main logfile for pandora_server

log_file /var/log/pandora/pandora_server.log

# dbname: Database name (pandora by default

dbname pandora

# dbuser: Database user name (pandora by default)

dbuser pandora

# dbpass: Database password

dbpass pandora
dbpass  s3cr3t with spaces \t

# dbhost: Database hostname or IP address

dbhost 127.0.0.1
\tdbhost\t10.0.0.5   

# dbport: Database port number
# Default value depends on the dbengine (mysql: 3306, postgresql: 5432, oracle: 1521)
#dbport 3306
dbport 3307

# Sync Server configuration
syncserver 1
sync_address 10.142.50.10,10.142.50.20:41200,[fd00::7]:41300
#sync_port 41121
sync_port\t41122
# Sync certificate path of the authenticating CA
#sync_ca /home/cacert.pem
sync_cert /home/tentaclecert.pem
sync_key /home/tentaclekey.pem
# Sync number of attempts
sync_retries 3
# Sync timeout
sync_timeout 10
sync_timeout 12
# unknown tokens are ignored
dataserver 1
some_future_token
`;

describe('pandora_server.conf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pandora-conf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses tokens: comments, tabs, repeats (last wins), trailing blanks, unknown tokens', () => {
    const { tokens, values } = parsePandoraConf(REALISTIC);
    assert.equal(values.servername, 'central-01');
    assert.equal(values.dbHost, '10.0.0.5');
    assert.equal(values.dbPort, '3307');
    assert.equal(values.dbPass, 's3cr3t with spaces');
    assert.equal(values.dbName, 'pandora');
    assert.equal(values.incomingDir, '/var/spool/pandora/data_in');
    assert.equal(values.syncserver, '1');
    assert.equal(values.syncPort, '41122');
    assert.equal(values.syncTimeout, '12');
    assert.equal(values.syncRetries, '3');
    assert.equal(values.syncCert, '/home/tentaclecert.pem');
    assert.equal(values.syncCa, undefined, 'a commented-out token is not set');
    assert.equal(tokens.dataserver, '1');
    assert.equal(tokens.some_future_token, '');
    assert.equal(tokens.log_file, '/var/log/pandora/pandora_server.log');
  });

  it('explicit property wins, then the file, then the defaults', () => {
    const { values } = parsePandoraConf(REALISTIC);
    const s = resolvePandoraSettings({ dbHost: '192.0.2.1', dbPort: '', syncRetries: 5 }, values);
    assert.equal(s.dbHost, '192.0.2.1');
    assert.equal(s.origin.dbHost, 'node');
    assert.equal(s.dbPort, 3307);
    assert.equal(s.origin.dbPort, 'conf');
    assert.equal(s.syncRetries, 5);
    assert.equal(s.syncTimeout, 12);
    assert.equal(s.servername, 'central-01');
    const d = resolvePandoraSettings({});
    assert.equal(d.dbHost, '127.0.0.1');
    assert.equal(d.dbPort, 3306);
    assert.equal(d.dbName, 'pandora');
    assert.equal(d.dbUser, 'pandora');
    assert.equal(d.incomingDir, '/var/spool/pandora/data_in');
    assert.equal(d.syncPort, 41121);
    assert.equal(d.syncRetries, 3);
    assert.equal(d.syncTimeout, 10);
    assert.equal(d.origin.syncPort, 'default');
    assert.throws(() => resolvePandoraSettings({ dbPort: 'x' }), /dbPort/);
  });

  it('reads a file; a missing file is an error naming the path', async () => {
    const path = join(dir, 'pandora_server.conf');
    writeFileSync(path, REALISTIC);
    assert.equal((await readPandoraConf(path)).values.dbHost, '10.0.0.5');
    assert.equal(readPandoraConfSync(path).values.syncPort, '41122');
    const missing = join(dir, 'nope.conf');
    await assert.rejects(readPandoraConf(missing), (e: Error) => e.message.includes(missing));
    assert.throws(
      () => readPandoraConfSync(dir),
      (e: Error) => e.message.includes(dir),
    );
  });

  it('parses sync_address into buffer endpoints', () => {
    const { values } = parsePandoraConf(REALISTIC);
    assert.deepEqual(parseSyncAddress(values.syncAddress ?? '', 41122), [
      { host: '10.142.50.10', port: 41122, address: '10.142.50.10:41122' },
      { host: '10.142.50.20', port: 41200, address: '10.142.50.20:41200' },
      { host: 'fd00::7', port: 41300, address: '[fd00::7]:41300' },
    ]);
    assert.deepEqual(
      parseSyncAddress(' [::1] , buffer.example, ::1, buffer.example:41121 ').map((e) => e.address),
      ['[::1]:41121', 'buffer.example:41121'],
    );
    assert.deepEqual(parseSyncAddress(''), []);
    assert.throws(() => parseSyncAddress('host:99999'), /port/);
    assert.throws(() => parseSyncAddress(':41121'), /empty host/);
  });
});
