// docker-compose.kafka-cluster.yml, validated with the base file by Debian's docker-compose 1.29
// (no engine needed).
import { parse } from "yaml";
import { composeOver, expectValidConfig } from "./compose-cli";

interface Service {
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = composeOver("docker-compose.yml", "docker-compose.kafka-cluster.yml");

describe("docker-compose.kafka-cluster.yml", () => {
  it("passes docker-compose config on top of docker-compose.yml", () => {
    expectValidConfig(compose("config", "-q"));
  });

  it("runs three nodes of one cluster, with three copies of everything and two in sync", () => {
    const result = compose("config");
    expect(result.status).toBe(0);
    const services = (parse(result.stdout) as { services: Record<string, Service> }).services;
    const nodes = ["kafka", "kafka-2", "kafka-3"].map((name) => services[name]?.environment ?? {});
    expect(nodes.map((env) => env.KAFKA_NODE_ID)).toEqual(["1", "2", "3"]);
    for (const env of nodes) {
      expect(env).toMatchObject({
        CLUSTER_ID: nodes[0]?.CLUSTER_ID,
        KAFKA_CONTROLLER_QUORUM_VOTERS: "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093",
        KAFKA_DEFAULT_REPLICATION_FACTOR: "3",
        KAFKA_MIN_INSYNC_REPLICAS: "2",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "3",
      });
    }
    expect(services["kafka-2"]?.ports).toEqual(["127.0.0.1:9095:9094/tcp"]);
    expect(services["kafka-3"]?.ports).toEqual(["127.0.0.1:9096:9094/tcp"]);

    expect(services.topics?.environment?.KAFKA_REPLICATION_FACTOR).toBe("3");
    expect(services.topics?.depends_on).toMatchObject({
      "kafka-2": { condition: "service_healthy" },
      "kafka-3": { condition: "service_healthy" },
    });
    const clients = Object.entries(services).filter(([, s]) => s.environment?.KAFKA_BROKERS !== undefined);
    expect(clients.length).toBeGreaterThan(5);
    for (const [, s] of clients) {
      expect(s.environment?.KAFKA_BROKERS).toBe("kafka:9092,kafka-2:9092,kafka-3:9092");
    }
  });
});
