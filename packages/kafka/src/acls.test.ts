import { AclOperationTypes, AclResourceTypes, ResourcePatternTypes } from "kafkajs";
import { serviceAclEntries } from "./acls";

const entries = serviceAclEntries("t1.");
/** kafkajs' ACL enums are plain objects at runtime, without reverse names. */
const nameOf = (values: object, value: number) => Object.entries(values).find(([, v]) => v === value)?.[0];
const grants = (principal: string) =>
  entries
    .filter((e) => e.principal === principal)
    .map(
      (e) =>
        `${nameOf(AclOperationTypes, e.operation)} ${nameOf(AclResourceTypes, e.resourceType)} ${e.resourceName}`,
    )
    .sort();

describe("the services' ACLs", () => {
  it("lets only the keys service write keys.changes.v1", () => {
    const writers = entries.filter(
      (e) =>
        e.resourceType === AclResourceTypes.TOPIC &&
        e.resourceName === "t1.keys.changes.v1" &&
        e.operation === AclOperationTypes.WRITE,
    );
    expect(writers.map((e) => e.principal)).toEqual(["User:keys"]);
    expect(grants("User:keys")).toEqual(["WRITE TOPIC t1.keys.changes.v1"]);
  });

  it("gives the edge its topics, the key topic to read and its registry's throwaway groups", () => {
    expect(grants("User:edge")).toEqual([
      "DELETE GROUP key-registry-",
      "READ GROUP key-registry-",
      "READ TOPIC t1.keys.changes.v1",
      "WRITE TOPIC t1.auth.failures.v1",
      "WRITE TOPIC t1.keys.changes.v1.dlq",
      "WRITE TOPIC t1.usage.events.v1",
    ]);
  });

  it("gives a consumer its topic, its dead-letter topic and its group, nothing else", () => {
    expect(grants("User:usage-recorder")).toEqual([
      "READ GROUP usage-recorder",
      "READ TOPIC t1.usage.events.v1",
      "WRITE TOPIC t1.usage.events.v1.dlq",
    ]);
  });

  it("matches topics literally and groups by prefix, and grants nothing cluster-wide", () => {
    for (const e of entries) {
      expect(e.resourcePatternType).toBe(
        e.resourceType === AclResourceTypes.GROUP
          ? ResourcePatternTypes.PREFIXED
          : ResourcePatternTypes.LITERAL,
      );
      expect(e.resourceType).not.toBe(AclResourceTypes.CLUSTER);
    }
  });
});
