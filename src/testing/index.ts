export { TopologyTestDriver, type TestDriverOptions } from './topology-test-driver';
export { TestInputTopic, TestOutputTopic, type TestRecord, type PipeOptions } from './test-topics';
