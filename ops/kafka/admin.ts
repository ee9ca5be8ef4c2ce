/** The broker requests the stack scripts use; they live in src/admin, shared with the runtime. */
export { clusterInfo, type ClusterInfo } from '../../src/kafka';
export { createTopics, type TopicSpec } from '../../src/kafka';
