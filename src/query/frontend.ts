/**
 * The query side of one KafkaStreams instance: the host directory (who runs which task)
 * and the HTTP server, started before the stream thread and stopped after it.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/internals/graph';
import type { ClientSettings, KafkaClientSupplier } from '../kafka';
import type { InputPartitioner } from '../partitioner';
import { HostDirectory } from './directory';
import { Queryable, type InstanceView } from './queryable';
import { advertisedUrl, startQueryServer, type QueryServerOptions } from './server';

/** What the frontend needs from the instance beyond the query view: the input topics it found off the declared partitioner. */
export interface FrontendView extends Omit<InstanceView, 'instanceId' | 'url' | 'owner' | 'partitionerMismatch'> {
  mismatchedTopics(): string[];
  /** Another stream thread of this instance that runs the task in a process of its own (asked before the directory). */
  siblingOwner?(taskId: string): { instanceId: string; url: string } | undefined;
}

/** The instance the frontend serves: its names, and how it reaches Kafka. */
export interface FrontendInstance {
  applicationId: string;
  instanceId: string;
  client: ClientSettings;
  clients: KafkaClientSupplier;
  inputPartitioner: InputPartitioner;
}

export class QueryFrontend {
  private readonly directory: HostDirectory;
  private server: FastifyInstance | undefined;
  private tasks: readonly string[] = [];
  private mismatchedTopics: () => string[] = () => [];
  readonly url: string;

  constructor(
    private readonly graph: TopologyGraph,
    private readonly config: FrontendInstance,
    private readonly options: QueryServerOptions,
    private readonly log: Logger,
  ) {
    this.url = advertisedUrl(options);
    this.directory = new HostDirectory(
      config.clients,
      config.client,
      `${config.applicationId}-query-hosts`,
      { applicationId: config.applicationId, instanceId: config.instanceId, url: this.url },
      log,
    );
  }

  async start(view: FrontendView): Promise<void> {
    await this.directory.start();
    const { mismatchedTopics, siblingOwner, ...rest } = view;
    this.mismatchedTopics = mismatchedTopics;
    const instance: InstanceView = {
      ...rest,
      instanceId: this.config.instanceId,
      url: this.url,
      owner: (taskId) => siblingOwner?.(taskId) ?? this.directory.ownerOf(taskId),
      runsInSibling: (taskId) => siblingOwner?.(taskId) !== undefined,
      // Seen here, or reported by any instance: the partitions it may be in are not this instance's alone.
      partitionerMismatch: (topic) => mismatchedTopics().includes(topic) || this.directory.mismatchReported(topic),
    };
    this.server = await startQueryServer(
      new Queryable({ graph: this.graph, admin: this.config.clients.admin(this.config.client), instance, declared: this.config.inputPartitioner }),
      this.options,
      this.log,
    );
  }

  /** After every rebalance (and restoration): which tasks this instance answers for. */
  assigned(taskIds: readonly string[]): void {
    this.tasks = [...taskIds];
    this.directory.publish(this.tasks, this.mismatchedTopics());
  }

  /** This instance found records off the declared partitioner: every instance is told at once. */
  mismatchFound(): void {
    this.directory.publish(this.tasks, this.mismatchedTopics());
  }

  async stop(): Promise<void> {
    await this.server?.close().catch((err: unknown) => this.log.warn({ err }, 'closing the query server failed'));
    await this.directory.stop().catch((err: unknown) => this.log.warn({ err }, 'withdrawing from the host directory failed'));
  }
}

/**
 * The query listener of one stream thread's process (runtime/threads/): on the loopback
 * address and a free port, answering for the thread's own tasks only. The instance's main
 * process serves the query API and forwards each question to the thread that runs the task.
 */
export async function startThreadQueryServer(
  graph: TopologyGraph,
  config: FrontendInstance,
  options: QueryServerOptions,
  view: FrontendView,
  log: Logger,
): Promise<{ url: string; stop(): Promise<void> }> {
  const { mismatchedTopics, siblingOwner: _none, ...rest } = view;
  const instance: InstanceView = {
    ...rest,
    instanceId: config.instanceId,
    url: '',
    owner: () => undefined,
    partitionerMismatch: (topic) => mismatchedTopics().includes(topic),
  };
  const local = { port: 0, host: '127.0.0.1', ...(options.auth ? { auth: options.auth } : {}) };
  const server = await startQueryServer(
    new Queryable({ graph, admin: config.clients.admin(config.client), instance, declared: config.inputPartitioner }),
    local,
    log,
  );
  const address = server.server.address();
  instance.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url: instance.url, stop: () => server.close() };
}
