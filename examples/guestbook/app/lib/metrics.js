'use strict';
// Prometheus metrics of one program, served at GET /metrics in the text exposition format
// 0.0.4, in the names the stack's alerts and dashboards read (stackbuild's docs/operations.md,
// "Metrics a service serves"). Hand-written: Node has no Prometheus client among Debian's
// packages, npm is not used here, and the format is a few lines of text.
//
//   http_requests_total{code,method,route}  requests answered (5xx is an error)
//   http_request_duration_seconds           a histogram of the time to answer them
//   guestbook_entries_processed_total       entries the worker summarized
//   guestbook_entries_pending               entries waiting for the worker (read per scrape)
//
// Scrapes of /metrics itself are not counted.

const PATH = '/metrics';
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
// Prometheus's default buckets (seconds), the client libraries' default too.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// A label value in double quotes: backslash, double quote and line feed escaped.
function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// HELP text: backslash and line feed escaped (quotes are literal there).
function escapeHelp(text) {
  return String(text).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

// A sample value: Go's float syntax, which Prometheus parses (+Inf, -Inf, NaN spelled so).
function formatValue(value) {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (value === Infinity) {
    return '+Inf';
  }
  if (value === -Infinity) {
    return '-Inf';
  }
  return String(value);
}

// {a="1",b="2"} from [[name, value], ...]; nothing at all without labels.
function formatLabels(pairs) {
  if (!pairs.length) {
    return '';
  }
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

function header(name, help, type) {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

class Counter {
  constructor(name, help, labelNames = []) {
    Object.assign(this, { name, help, labelNames, values: new Map() });
  }

  inc(labels = {}, by = 1) {
    if (!(by >= 0)) {
      throw new RangeError(`${this.name}: a counter only goes up (got ${by})`);
    }
    const key = JSON.stringify(this.labelNames.map((label) => String(labels[label] ?? '')));
    this.values.set(key, (this.values.get(key) || 0) + by);
  }

  lines() {
    const out = header(this.name, this.help, 'counter');
    for (const key of [...this.values.keys()].sort()) {
      const pairs = JSON.parse(key).map((value, i) => [this.labelNames[i], value]);
      out.push(`${this.name}${formatLabels(pairs)} ${formatValue(this.values.get(key))}`);
    }
    return out;
  }
}

// A gauge read when scraped: `read()` returns the value (a Promise is awaited). A value that
// cannot be read is NaN, never a failed scrape: that would read as the service down.
class Gauge {
  constructor(name, help, read) {
    Object.assign(this, { name, help, read });
  }

  async linesAsync() {
    let value;
    try {
      value = Number(await this.read());
    } catch (err) {
      value = NaN;
    }
    return [...header(this.name, this.help, 'gauge'), `${this.name} ${formatValue(value)}`];
  }
}

class Histogram {
  constructor(name, help, buckets = BUCKETS) {
    const bounds = [...buckets].sort((a, b) => a - b);
    Object.assign(this, { name, help, bounds, counts: bounds.map(() => 0), sum: 0, count: 0 });
  }

  observe(seconds) {
    // Each observation lands in the first bucket that holds it; lines() adds them up.
    const index = this.bounds.findIndex((bound) => seconds <= bound);
    if (index >= 0) {
      this.counts[index] += 1;
    }
    this.sum += seconds;
    this.count += 1;
  }

  lines() {
    const out = header(this.name, this.help, 'histogram');
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i];
      out.push(`${this.name}_bucket${formatLabels([['le', formatValue(bound)]])} ${cumulative}`);
    });
    out.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    out.push(`${this.name}_sum ${formatValue(this.sum)}`);
    out.push(`${this.name}_count ${this.count}`);
    return out;
  }
}

// One program's metrics: the HTTP ones every program has, and what it adds.
class Registry {
  constructor() {
    this.requests = new Counter('http_requests_total', 'HTTP requests answered, by status code',
      ['code', 'method', 'route']);
    this.duration = new Histogram('http_request_duration_seconds', 'Time to answer one HTTP request');
    this.extra = [];
  }

  add(metric) {
    this.extra.push(metric);
    return metric;
  }

  // The body of GET /metrics.
  async page() {
    const lines = [...this.requests.lines(), ...this.duration.lines()];
    for (const metric of this.extra) {
      lines.push(...(metric.linesAsync ? await metric.linesAsync() : metric.lines()));
    }
    return `${lines.join('\n')}\n`;
  }

  // An http.createServer handler that answers GET /metrics itself, and counts and times every
  // other request `handler` answers. `routeOf(req)` names the route (a bounded set: never the
  // raw URL, whose ids would make a series each).
  instrument(handler, routeOf) {
    return (req, res) => {
      if (req.method === 'GET' && new URL(req.url, 'http://localhost').pathname === PATH) {
        this.serve(res);
        return;
      }
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.requests.inc({ code: res.statusCode, method: req.method, route: routeOf(req) });
        this.duration.observe(seconds);
      });
      handler(req, res);
    };
  }

  serve(res) {
    this.page().then((text) => {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    }, (err) => {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`metrics failed: ${err.message}\n`);
    });
  }
}

module.exports = {
  PATH, CONTENT_TYPE, BUCKETS, Counter, Gauge, Histogram, Registry, escapeLabel, formatValue,
};
