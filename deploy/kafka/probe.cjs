#!/usr/bin/env node
// Readiness probe for kafka.sh: exits 0 when the broker at HOST:PORT serves Metadata listing
// at least one broker and a controller, i.e. admin calls such as CreateTopics work right away.
// A bound listener is not enough: the broker accepts connections before it has caught up with
// the metadata log and been unfenced.
//
//   node probe.cjs HOST:PORT [--ca CA_FILE --user NAME]   (password in KAFKA_PROBE_PASSWORD)
//
// With --ca it connects over TLS and logs in with SCRAM-SHA-512, as a secure broker requires.
const { readFileSync } = require("node:fs");
const { Kafka, logLevel } = require("kafkajs");

const [broker, ...rest] = process.argv.slice(2);
const option = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
if (!broker) {
  process.stderr.write("usage: probe.cjs HOST:PORT [--ca CA_FILE --user NAME]\n");
  process.exit(2);
}
const ca = option("--ca");
const user = option("--user");

const kafka = new Kafka({
  brokers: [broker],
  clientId: "kafka.sh-probe",
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
  ...(ca && {
    ssl: { ca: [readFileSync(ca, "utf8")] },
    sasl: { mechanism: "scram-sha-512", username: user, password: process.env.KAFKA_PROBE_PASSWORD ?? "" },
  }),
});

(async () => {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers, controller } = await admin.describeCluster();
    process.exitCode = brokers.length >= 1 && controller !== null && controller >= 0 ? 0 : 1;
  } catch {
    process.exitCode = 1;
  } finally {
    await admin.disconnect().catch(() => {});
  }
})();
