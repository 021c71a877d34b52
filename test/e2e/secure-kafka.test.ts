// The event path on a broker started with `kafka.sh start --secure` (SASL_SSL, SCRAM users per
// service, the standard authorizer and the services' ACLs): its own broker on free ports, never
// the shared one.
import { type KafkaSecurity, kafkaEnv, kafkaSecurity, parseEnv } from "@apimon/config";
import { allTopics, topics } from "@apimon/events";
import { createKafka, ensureTopics, type KafkaClient, SERVICE_ACCESS, topicName } from "@apimon/kafka";
import {
  type ControlledBroker,
  privateBroker,
  type SecureBrokerAccess,
  secureBrokerAccess,
  testLogger,
} from "@apimon/testkit";

jest.setTimeout(240_000);

const logger = testLogger("secure-kafka");
let broker: ControlledBroker;
let access: SecureBrokerAccess;
let brokers: string[];

/** The client settings a service would load for `user`. */
function securityOf(user: string, mechanism?: "scram-sha-256" | "scram-sha-512" | "plain"): KafkaSecurity {
  return kafkaSecurity(parseEnv(kafkaEnv, access.env(user, mechanism)));
}

/**
 * A client for `user`; `retries: 0` for one that should be refused (a refused connection is
 * otherwise retried like an outage), the default for one that should get through (a partition
 * has no leader for a moment after its topic is created).
 */
function client(security: KafkaSecurity | undefined, clientId: string, retries = 8): KafkaClient {
  return createKafka({ brokers, clientId, logger, security, connectionTimeoutMs: 5000, retry: { retries } });
}

async function produceOne(kafka: KafkaClient, topic: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: "k", value: "{}" }] });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  broker = await privateBroker("kafka-secure", { secure: true });
  await broker.controlAsync("start");
  access = secureBrokerAccess(broker.runtimeDir);
  brokers = [`127.0.0.1:${broker.port}`];
  const admin = createKafka({ brokers, clientId: "secure-admin", logger, security: securityOf("admin") });
  await ensureTopics(admin, { prefix: "", specs: allTopics() });
});

afterAll(() => {
  broker?.dispose();
});

describe("a secure broker", () => {
  const keyChanges = topicName(topics.keyChanges, "");

  it("refuses a client without credentials, in plaintext and over TLS", async () => {
    const plaintext = client(undefined, "no-tls", 0);
    await expect(plaintext.admin().connect()).rejects.toThrow();
    const anonymous = client({ ssl: { ca: securityOf("admin").ssl?.ca } }, "no-sasl", 0);
    await expect(produceOne(anonymous, keyChanges)).rejects.toThrow();
  });

  it("refuses a wrong password", async () => {
    const wrong = client(
      { ...securityOf("edge"), sasl: { mechanism: "scram-sha-512", username: "edge", password: "not-it" } },
      "wrong-password",
      0,
    );
    await expect(wrong.admin().connect()).rejects.toMatchObject({ name: "KafkaJSSASLAuthenticationError" });
  });

  it("lets only the keys service write keys.changes.v1", async () => {
    await expect(produceOne(client(securityOf("keys"), "keys"), keyChanges)).resolves.toBeUndefined();
    const others = SERVICE_ACCESS.map((a) => a.service).filter((s) => s !== "keys");
    expect(others).toHaveLength(6);
    for (const service of others) {
      await expect(produceOne(client(securityOf(service), service), keyChanges)).rejects.toThrow(
        "Not authorized to access topics: [Topic authorization failed]",
      );
    }
  });

  it("accepts each service over SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN", async () => {
    for (const mechanism of ["scram-sha-256", "scram-sha-512", "plain"] as const) {
      await expect(
        produceOne(
          client(securityOf("edge", mechanism), `edge-${mechanism}`),
          topicName(topics.usageEvents, ""),
        ),
      ).resolves.toBeUndefined();
    }
  });
});
