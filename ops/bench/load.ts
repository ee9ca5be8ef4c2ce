/** CPU of this process and of the broker over a stretch of a benchmark (restore, ws). */
import { readFileSync } from 'node:fs';
import { brokerNodes } from '../kafka/broker';
import { runningPid } from '../kafka/process';
import type { Config } from '../../src/config';

export type Say = (line: string) => void;

export function cpuMeter(config: Config): { stop(wallMs: number): { self: number; broker: number } } {
  const self = process.cpuUsage();
  const pid = runningPid(brokerNodes(config.stack)[0]!.pidFile);
  const brokerTicks = (): number => {
    if (pid === undefined) return NaN;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const broker0 = brokerTicks();
  return {
    stop(wallMs: number) {
      const used = process.cpuUsage(self);
      return {
        self: Math.round(((used.user + used.system) / 1000 / wallMs) * 100),
        broker: Math.round((((brokerTicks() - broker0) * 10) / wallMs) * 100),
      };
    },
  };
}
