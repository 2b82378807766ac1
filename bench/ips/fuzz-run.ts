import { type RuleSet, Transaction } from '@palisade/seclang';
import { fuzzRequest } from './fuzz-requests.ts';
import { BENCH_MIX, type BenchRequest } from './requests.ts';

function runOne(ruleSet: RuleSet, r: BenchRequest): void {
  const tx = new Transaction(ruleSet);
  tx.processConnection('203.0.113.9');
  tx.processUri(r.uri, r.method);
  for (const [k, v] of r.headers) tx.addRequestHeader(k, v);
  tx.processRequestHeaders();
  if (r.body) tx.appendRequestBody(r.body);
  tx.processRequestBody();
  tx.addResponseHeader('Content-Type', 'text/html');
  tx.processResponseHeaders(200);
  tx.appendResponseBody(r.body ?? r.uri);
  tx.processResponseBody();
  tx.processLogging();
}

export interface FuzzReport {
  requests: number;
  errors: { seed: number; error: string }[];
  slow: { seed: number; ms: number }[];
  maxMs: number;
}

/**
 * Runs `count` fuzz requests through the engine, request and response side. Time is the
 * thread's CPU time, so a busy machine does not turn scheduling delays into failures.
 */
export function runFuzz(ruleSet: RuleSet, firstSeed: number, count: number, limitMs = 50): FuzzReport {
  const report: FuzzReport = { requests: 0, errors: [], slow: [], maxMs: 0 };
  // V8 compiles each regex on its first use: warm up on unmutated requests so the time limit
  // measures evaluation, not one-off compilation.
  for (const r of BENCH_MIX) runOne(ruleSet, r);
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const r = fuzzRequest(seed);
    const c0 = process.cpuUsage();
    try {
      runOne(ruleSet, r);
    } catch (err) {
      report.errors.push({ seed, error: (err as Error).stack ?? String(err) });
    }
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    report.maxMs = Math.max(report.maxMs, ms);
    if (ms > limitMs) report.slow.push({ seed, ms });
    report.requests++;
  }
  return report;
}
