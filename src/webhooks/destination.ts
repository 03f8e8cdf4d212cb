// P24: no request from the server to an internal network unless allow-listed. The address is
// checked when the webhook is saved and again when each connection is made (the lookup below), so
// a name that resolves elsewhere later (DNS rebinding) is caught too.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const internal = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(address, prefix, 'ipv6');
// IPv4 inside IPv6 (::ffff:7f00:1 and the deprecated IPv4-compatible ::7f00:1 are 127.0.0.1; NAT64
// and 6to4 reach any IPv4 through a gateway): refused, checked for IPv6 addresses only, since
// BlockList would also match every IPv4 address against these. ::/96 holds :: and ::1 as well.
const embedded = new net.BlockList();
for (const [address, prefix] of [
  ['::', 96],
  ['::ffff:0:0', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
] as const) {
  embedded.addSubnet(address, prefix, 'ipv6');
}

const family = (address: string) => (net.isIPv6(address) ? 'ipv6' : 'ipv4');
/** ::ffff:10.0.0.1 is 10.0.0.1. */
const unwrap = (address: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;

/** Whether an address may be reached: public, or named by the allow list (a host, an address or a CIDR range). */
export function reachable(given: string, host: string, allow: readonly string[]): boolean {
  const address = unwrap(given);
  if (allow.includes(host.toLowerCase()) || allow.includes(address)) return true;
  for (const entry of allow) {
    const [base, bits] = entry.split('/');
    if (bits && net.isIP(base) && net.isIP(address) && family(base) === family(address)) {
      const range = new net.BlockList();
      range.addSubnet(base, Number(bits), family(base));
      if (range.check(address, family(address))) return true;
    }
  }
  if (family(address) === 'ipv6' && embedded.check(address, 'ipv6')) return false;
  return !internal.check(address, family(address));
}

/** Why a webhook URL is refused, or null: it must be http(s) and every address its host has must be reachable. */
export async function refuseDestination(url: string, allow: readonly string[]): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must start with https:// (or http://)';
  if (parsed.username || parsed.password)
    return 'must not carry a user name or password; the signature proves who sends';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host)
    ? [host]
    : await dns.promises.lookup(host, { all: true }).then(
        (r) => r.map((a) => a.address),
        () => null,
      );
  if (!addresses || addresses.length === 0) return `the host ${host} does not resolve`;
  const blocked = addresses.find((a) => !reachable(a, host, allow));
  return blocked
    ? `${host} is an internal address (${blocked}); allow it with KEPT_WEBHOOK_ALLOW if it is meant`
    : null;
}

export interface Sent {
  status: number;
  body: string;
}

/** POSTs the body; the connection goes only to an address `reachable` allows. Ten seconds at most. */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  allow: readonly string[],
): Promise<Sent> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // Node asks for every address (it tries them in turn); each one must be reachable.
  const lookup = ((
    hostname: string,
    options: dns.LookupOptions,
    callback: (error: Error | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const blocked = addresses.find((a) => !reachable(a.address, host, allow));
      if (blocked || addresses.length === 0)
        return callback(
          new Error(`${host} resolved to an internal address (${blocked?.address ?? 'none'}); not sent`),
          '',
          4,
        );
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  }) as unknown as net.LookupFunction;
  return new Promise((resolve, reject) => {
    if (net.isIP(host) && !reachable(host, host, allow))
      return reject(new Error(`${host} is an internal address; not sent`));
    const request = (target.protocol === 'https:' ? https : http).request(
      target,
      {
        // A fresh connection each time (no pooled socket): every connection passes the check above.
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        lookup,
        agent: false,
        timeout: 10_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < 2000) text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text.slice(0, 2000) }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
    request.end(body);
  });
}
