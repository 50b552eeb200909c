'use strict';
/**
 * Preloaded into an n8n process under test only (NODE_OPTIONS=--require <this file>): makes the hosts in
 * E2E_REDIRECT_HOSTS (comma-separated, subdomains included) resolve to 127.0.0.1 and sends their HTTPS
 * (port 443) connections to E2E_REDIRECT_PORT, where a capture server answers. The TLS server name stays
 * the original host, so the certificate is still verified for it (trusted through NODE_EXTRA_CA_CERTS).
 * Plain JavaScript because n8n's own Node loads it, before any n8n code.
 */
const dns = require('node:dns');
const tls = require('node:tls');

const redirectedHosts = (process.env.E2E_REDIRECT_HOSTS || '').split(',').filter(Boolean);
const capturePort = Number(process.env.E2E_REDIRECT_PORT);

function isRedirected(hostname) {
	if (typeof hostname !== 'string') return false;
	const host = hostname.toLowerCase().replace(/\.$/, '');
	return redirectedHosts.some((redirected) => host === redirected || host.endsWith(`.${redirected}`));
}

if (redirectedHosts.length > 0 && capturePort > 0) {
	const originalLookup = dns.lookup;
	dns.lookup = function lookup(hostname, options, callback) {
		if (typeof options === 'function') {
			callback = options;
			options = {};
		}
		if (!isRedirected(hostname)) return originalLookup.call(this, hostname, options, callback);
		const all = typeof options === 'object' && options !== null && options.all;
		if (all) process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
		else process.nextTick(callback, null, '127.0.0.1', 4);
		return {};
	};

	const originalPromisesLookup = dns.promises.lookup;
	dns.promises.lookup = async function lookup(hostname, options) {
		if (!isRedirected(hostname)) return originalPromisesLookup.call(this, hostname, options);
		const all = typeof options === 'object' && options !== null && options.all;
		return all ? [{ address: '127.0.0.1', family: 4 }] : { address: '127.0.0.1', family: 4 };
	};

	const originalConnect = tls.connect;
	tls.connect = function connect(...args) {
		// Forms: (options[, cb]), (port[, host][, options][, cb]); https.Agent uses the first.
		if (typeof args[0] === 'object' && args[0] !== null) {
			const options = args[0];
			const host = options.servername || options.host;
			if (isRedirected(host) && (options.port === undefined || Number(options.port) === 443)) {
				args[0] = { ...options, host: '127.0.0.1', port: capturePort, servername: host };
			}
		} else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
			const host = typeof args[1] === 'string' ? args[1] : args[1] && args[1].host;
			if (isRedirected(host) && Number(args[0]) === 443) {
				const extra = typeof args[1] === 'object' ? args[1] : typeof args[2] === 'object' ? args[2] : {};
				const callback = args.find((arg) => typeof arg === 'function');
				args = [{ ...extra, host: '127.0.0.1', port: capturePort, servername: host }];
				if (callback) args.push(callback);
			}
		}
		return originalConnect.apply(this, args);
	};
}
