'use strict';
// The worker's one call to another service: GET <API_URL>/healthz. In Compose the name
// `api` is the service's container; in Kubernetes it is its Service, and the stack's
// NetworkPolicies allow this path because stack.yaml declares `worker: calls: {api: http}`.
const http = require('http');

// GET <base>/healthz -> the HTTP status, or an Error saying why there was none.
function checkHealth(base, timeoutMs = 3000) {
  return new Promise((resolve) => {
    let url;
    try {
      url = new URL('/healthz', base);
    } catch (err) {
      resolve(new Error(`API_URL ${JSON.stringify(base)} is not a URL`));
      return;
    }
    const request = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on('error', (err) => resolve(err));
  });
}

module.exports = { checkHealth };
