import { dlqTopic, type TopicSpec, topics } from "@apimon/events";
import {
  type AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Kafka,
  ResourcePatternTypes,
} from "kafkajs";
import { topicName } from "./topics";

/** What one service's Kafka principal (`User:<service>`) may do, and nothing more. */
export interface ServiceAccess {
  service: string;
  /** Topics it produces to. */
  writes: TopicSpec<unknown>[];
  /** Topics it consumes; it also writes their dead-letter topics. */
  reads: TopicSpec<unknown>[];
  /**
   * Consumer group ids it joins, by prefix: the service's default group id, so a custom
   * `*_GROUP_ID` must start with it (or get an ACL of its own).
   */
  groupPrefixes: string[];
  /** Deletes its groups when it stops (the key registry's group lives for one run). */
  deletesGroups?: boolean;
}

const t = <T>(spec: TopicSpec<T>) => spec as TopicSpec<unknown>;

/**
 * The ACL set of a secure cluster. Only the keys service may write keys.changes.v1: a change
 * there activates a key or raises its limits at every edge.
 */
export const SERVICE_ACCESS: readonly ServiceAccess[] = [
  { service: "keys", writes: [t(topics.keyChanges)], reads: [], groupPrefixes: [] },
  {
    service: "edge",
    writes: [t(topics.usageEvents), t(topics.authFailures)],
    reads: [t(topics.keyChanges)],
    groupPrefixes: ["key-registry-"],
    deletesGroups: true,
  },
  {
    service: "usage-recorder",
    writes: [],
    reads: [t(topics.usageEvents)],
    groupPrefixes: ["usage-recorder"],
  },
  { service: "key-stats", writes: [], reads: [t(topics.usageEvents)], groupPrefixes: ["key-stats"] },
  {
    service: "anomaly-detector",
    writes: [t(topics.alertSignals)],
    reads: [t(topics.usageEvents), t(topics.authFailures)],
    groupPrefixes: ["anomaly-detector"],
  },
  {
    service: "alerts",
    writes: [t(topics.notifications)],
    reads: [t(topics.alertSignals)],
    groupPrefixes: ["alerts"],
  },
  { service: "notifier", writes: [], reads: [t(topics.notifications)], groupPrefixes: ["notifier"] },
];

/**
 * The ACL entries for {@link SERVICE_ACCESS} with topic names under `topicPrefix`. Read and
 * Write imply Describe (metadata, offsets, committed positions), and Write on any topic implies
 * IdempotentWrite, so nothing else is granted.
 */
export function serviceAclEntries(topicPrefix = ""): AclEntry[] {
  const entries: AclEntry[] = [];
  const allow = (
    service: string,
    resourceType: AclResourceTypes,
    resourceName: string,
    resourcePatternType: ResourcePatternTypes,
    operation: AclOperationTypes,
  ) =>
    entries.push({
      principal: `User:${service}`,
      host: "*",
      resourceType,
      resourceName,
      resourcePatternType,
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
  for (const access of SERVICE_ACCESS) {
    const topic = (spec: TopicSpec<unknown>, operation: AclOperationTypes) =>
      allow(
        access.service,
        AclResourceTypes.TOPIC,
        topicName(spec, topicPrefix),
        ResourcePatternTypes.LITERAL,
        operation,
      );
    for (const spec of access.writes) topic(spec, AclOperationTypes.WRITE);
    for (const spec of access.reads) {
      topic(spec, AclOperationTypes.READ);
      if (spec.dlq) topic(dlqTopic(spec) as TopicSpec<unknown>, AclOperationTypes.WRITE);
    }
    for (const prefix of access.groupPrefixes) {
      const group = (operation: AclOperationTypes) =>
        allow(access.service, AclResourceTypes.GROUP, prefix, ResourcePatternTypes.PREFIXED, operation);
      group(AclOperationTypes.READ);
      if (access.deletesGroups) group(AclOperationTypes.DELETE);
    }
  }
  return entries;
}

/** Creates the services' ACLs on a cluster with an authorizer (idempotent: existing ones stay). */
export async function applyServiceAcls(kafka: Kafka, { topicPrefix = "" }: { topicPrefix?: string } = {}) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const acl = serviceAclEntries(topicPrefix);
    await admin.createAcls({ acl });
    return { entries: acl.length };
  } finally {
    await admin.disconnect();
  }
}
