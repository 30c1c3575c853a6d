/**
 * backend/kafka: the LogBackend on a real Kafka cluster, through @platformatic/kafka
 * (topics, read_committed fetches, group offsets, transactional and plain writers).
 */
export { KafkaBackend, type GroupMembership } from './backend.ts';
export { checkKafkaConfig, type KafkaConfig, parseBrokers } from '../../core/index.ts';
