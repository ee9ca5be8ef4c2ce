/**
 * The verifier (after Apache Kafka's EosTestDriver.verify), run once the application has
 * stopped:
 *   1. no hanging transaction: on every output partition the last stable offset reaches
 *      the high watermark;
 *   2. the input offsets the application's group committed are read;
 *   3. the input up to those offsets, and the whole echo topic read_committed;
 *   4. per partition, echo must equal the input exactly: same records, same order — a
 *      lost record shows as missing, a duplicate as extra;
 *   5. when given, the running `sum` and `min` per key (read_committed) must be exactly
 *      the values recomputed from that input (aggregates.ts).
 */
import type { ClientSettings } from '../kafka';
import { checkRunning, type AggregateCheck, type KeyedValue } from './aggregates';
import { closeConsumer, highOffset, openConsumer, partitionCount, readPartition } from './kafka-read';

export interface VerifyOptions {
  client: ClientSettings;
  applicationId: string;
  input: string;
  echo: string;
  /** Topics of the running aggregates per key, checked when given. */
  sum?: string;
  min?: string;
  /** How long to wait for open transactions to be resolved (ms). */
  settleMs?: number;
}

export interface VerifyResult {
  passed: boolean;
  inputRecords: number;
  echoRecords: number;
  missing: number;
  duplicated: number;
  reordered: number;
  /** `topic/partition` of every output partition with a transaction left open. */
  hangingPartitions: string[];
  aggregates: AggregateCheck[];
  /** Human summary; the first line is ALL-RECORDS-DELIVERED when passed. */
  report: string[];
}

export async function verifyEos(o: VerifyOptions): Promise<VerifyResult> {
  const committed = await openConsumer(o.client, o.applicationId, 'read_committed');
  const uncommitted = await openConsumer(o.client, `${o.applicationId}-verifier`, 'read_uncommitted');
  try {
    const partitions = await partitionCount(committed, o.input);
    const outputs = [o.echo, ...(o.sum ? [o.sum] : []), ...(o.min ? [o.min] : [])];
    const hanging: string[] = [];
    for (const topic of outputs) {
      const stuck = await hangingPartitions(committed, uncommitted, topic, await partitionCount(committed, topic), o.settleMs ?? 30_000);
      hanging.push(...stuck.map((p) => `${topic}/${p}`));
    }
    const allInput: KeyedValue[] = [];
    const groupOffsets = await committed.consumer.committed(
      Array.from({ length: partitions }, (_, partition) => ({ topic: o.input, partition })),
      10_000,
    );
    const totals = { input: 0, echo: 0, missing: 0, duplicated: 0, reordered: 0 };
    const report: string[] = [];
    for (let p = 0; p < partitions; p++) {
      const upTo = Math.max(0, groupOffsets.find((x) => x.partition === p)?.offset ?? 0);
      const records = await readPartition(uncommitted, o.input, p, upTo);
      allInput.push(...records);
      const input = records.map((r) => `${r.key}=${r.value}`);
      const echo = (await readPartition(committed, o.echo, p, await highOffset(committed, o.echo, p))).map((r) => `${r.key}=${r.value}`);
      const diff = compare(input, echo);
      totals.input += input.length;
      totals.echo += echo.length;
      totals.missing += diff.missing;
      totals.duplicated += diff.extra;
      totals.reordered += diff.reordered;
      if (diff.missing + diff.extra + diff.reordered > 0)
        report.push(
          `partition ${p}: input ${input.length}, echo ${echo.length}, missing ${diff.missing}, duplicated/extra ${diff.extra}, out of order ${diff.reordered}`,
        );
    }
    const aggregates: AggregateCheck[] = [];
    if (o.sum) aggregates.push(checkRunning('sum', allInput, await readAll(committed, o.sum), 'through-cache'));
    if (o.min) aggregates.push(checkRunning('min', allInput, await readAll(committed, o.min)));
    for (const a of aggregates)
      report.push(
        a.wrongKeys === 0
          ? `${a.name}: ${a.actual} running values for ${a.expected} inputs, all as recomputed from the input`
          : `${a.name}: ${a.wrongKeys} keys wrong (${a.actual} values for ${a.expected} inputs); ${a.firstProblem}`,
      );
    const passed =
      hanging.length === 0 && totals.missing + totals.duplicated + totals.reordered === 0 && totals.input > 0 && aggregates.every((a) => a.wrongKeys === 0);
    if (hanging.length > 0) report.unshift(`hanging transactions on ${hanging.join(', ')}`);
    report.unshift(
      passed ? 'ALL-RECORDS-DELIVERED' : 'EOS-VERIFICATION-FAILED',
      `input records (up to committed offsets): ${totals.input}; echo records (read_committed): ${totals.echo}; missing ${totals.missing}; duplicated ${totals.duplicated}; out of order ${totals.reordered}`,
    );
    return {
      passed,
      inputRecords: totals.input,
      echoRecords: totals.echo,
      missing: totals.missing,
      duplicated: totals.duplicated,
      reordered: totals.reordered,
      hangingPartitions: hanging,
      aggregates,
      report,
    };
  } finally {
    await closeConsumer(committed);
    await closeConsumer(uncommitted);
  }
}

/** Every partition of a topic, read_committed, up to its end. */
async function readAll(consumer: Parameters<typeof highOffset>[0], topic: string): Promise<KeyedValue[]> {
  const out: KeyedValue[] = [];
  const partitions = await partitionCount(consumer, topic);
  for (let p = 0; p < partitions; p++) out.push(...(await readPartition(consumer, topic, p, await highOffset(consumer, topic, p))));
  return out;
}

async function hangingPartitions(
  committed: Parameters<typeof highOffset>[0],
  uncommitted: Parameters<typeof highOffset>[0],
  topic: string,
  partitions: number,
  settleMs: number,
): Promise<number[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const hanging: number[] = [];
    for (let p = 0; p < partitions; p++) {
      if ((await highOffset(committed, topic, p)) < (await highOffset(uncommitted, topic, p))) hanging.push(p);
    }
    if (hanging.length === 0 || Date.now() > deadline) return hanging;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Multiset difference plus an order check on the common part. */
function compare(input: string[], echo: string[]): { missing: number; extra: number; reordered: number } {
  const counts = new Map<string, number>();
  for (const r of input) counts.set(r, (counts.get(r) ?? 0) + 1);
  let extra = 0;
  for (const r of echo) {
    const c = counts.get(r) ?? 0;
    if (c === 0) extra++;
    else counts.set(r, c - 1);
  }
  const missing = [...counts.values()].reduce((a, b) => a + b, 0);
  let reordered = 0;
  if (missing === 0 && extra === 0) for (let i = 0; i < input.length; i++) if (input[i] !== echo[i]) reordered++;
  return { missing, extra, reordered };
}
