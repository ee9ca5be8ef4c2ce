/** The broker requests the stack scripts use: the Kafka seam's admin calls (src/kafka), shared with the runtime. */
export { clusterInfo, type ClusterInfo } from '../../src/kafka';
export { createTopics, deleteTopics, type TopicSpec } from '../../src/kafka';
