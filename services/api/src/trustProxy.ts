import proxyaddr from 'proxy-addr';

/** The proxies a TRUST_PROXY setting names ("loopback, uniquelocal, 10.0.0.0/8"), as proxy-addr reads them. */
function trustedProxies(setting: string): string[] {
  return setting
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Why a TRUST_PROXY setting cannot be used, or undefined when it can. */
export function trustProxyProblem(setting: string): string | undefined {
  try {
    proxyaddr.compile(trustedProxies(setting));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * express's `trust proxy` for a TRUST_PROXY setting, remembering each
 * address's answer. express asks about every hop on every read of
 * `request.ip`, and proxy-addr parses the address anew each time: behind nginx,
 * where the socket address is IPv6-mapped, that was ~5% of the api's CPU. The
 * answer depends on the address alone, so remembering it changes nothing; the
 * memory is bounded, since X-Forwarded-For is written by clients.
 */
export function trustProxyFunction(setting: string, remember = 1_024): (address: string, hop: number) => boolean {
  const trusted = proxyaddr.compile(trustedProxies(setting));
  const answers = new Map<string, boolean>();
  return (address, hop) => {
    let answer = answers.get(address);
    if (answer === undefined) {
      answer = trusted(address, hop);
      if (answers.size >= remember) answers.clear();
      answers.set(address, answer);
    }
    return answer;
  };
}
