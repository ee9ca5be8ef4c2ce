/**
 * The local stack runs on the machine's own Java, Maven and (for tooling) Python. A
 * missing tool is one line naming what to install, not a spawn ENOENT trace.
 */
import { spawnSync } from 'node:child_process';
import { StreamingError } from '../../src/errors';

interface Tool {
  command: string;
  args: string[];
  install: string;
  /** Extracts the major version from the tool's output, when a minimum applies. */
  major?: (output: string) => number | undefined;
  min?: number;
}

const TOOLS = {
  java: {
    command: 'java',
    args: ['-version'],
    install: 'install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless, or openjdk-21-jre-headless where 17 is gone)',
    major: (out: string) => {
      const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
      if (!m) return undefined;
      return m[1] === '1' ? Number(m[2]) : Number(m[1]);
    },
    min: 17,
  },
  mvn: { command: 'mvn', args: ['-v'], install: 'install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven)' },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

export function requireTool(name: ToolName): void {
  const tool: Tool = TOOLS[name];
  const res = spawnSync(tool.command, tool.args, { encoding: 'utf8' });
  if (res.error) {
    throw new StreamingError('SA_ERR_STACK_TOOL_MISSING', `${tool.command} was not found on PATH`, { hint: tool.install });
  }
  if (res.status !== 0) {
    const output = `${res.stdout}${res.stderr}`.trim().split('\n').slice(-5).join('\n');
    throw new StreamingError('SA_ERR_STACK_TOOL_MISSING', `\`${tool.command} ${tool.args.join(' ')}\` failed (exit ${res.status ?? res.signal}):\n${output}`, {
      hint: `the ${tool.command} on PATH is broken: ${tool.install}`,
    });
  }
  if (tool.major && tool.min) {
    const major = tool.major(`${res.stdout}${res.stderr}`);
    if (major !== undefined && major < tool.min) {
      throw new StreamingError('SA_ERR_STACK_TOOL_MISSING', `${tool.command} is version ${major}, the broker needs ${tool.min}+`, { hint: tool.install });
    }
  }
}
